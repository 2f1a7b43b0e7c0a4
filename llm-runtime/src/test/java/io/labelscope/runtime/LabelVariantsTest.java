package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.task.Demo;
import io.labelscope.runtime.task.LabelSpace;
import io.labelscope.runtime.task.OutputFormat;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.testing.ByteBpe;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.SentencePieceBpe;
import io.labelscope.runtime.testing.TinyCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16 item 5, the variant rule (SPEC §1 same-concept tokens): a surface variant counts only if its first token
 * carries the label, i.e. covers at least as much of the word as the label's in-prompt first token does. Tokenizers
 * here write {@code fear}, {@code love} as one token but split {@code Fear}, {@code Love} into a capital letter and
 * the rest: the single letters must not score the labels.
 */
class LabelVariantsTest {

    @TempDir
    Path dir;

    static final List<String> LABELS = List.of("fear", "love", "surprise");

    static TaskDefinition task(List<String> labels) {
        return TaskDefinition.defaults("emo", labels, List.of(new Demo("x", List.of(labels.get(0)))), 1, 1);
    }

    static long[] row(LabelSpace s, String label) {
        return s.tokens(s.names().indexOf(label));
    }

    @Test
    void byteLevelCapitalisedFormsThatSplitIntoALetterAreRejected() throws Exception {
        ByteBpe bpe = new ByteBpe(List.of("Input", ":", "label", "\":", " [\"", "\"]}", "{\"", "\",", " \"", "\n",
                "fear", " fear", "love", " love", "sur", " sur", "none", " none", "Non"));
        Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB));
        Files.delete(dir.resolve("tokenizer.json"));
        bpe.write(dir.resolve("tokenizer.json"));
        try (LlmModel model = LlmModel.load(dir, RuntimeConfig.cpu());
             LabelDecoder d = new LabelDecoder(model, task(LABELS), false)) {
            LabelSpace s = d.labelSpace();
            long f = bpe.ids("F")[0];
            long l = bpe.ids("L")[0];
            long bigS = bpe.ids("S")[0];
            assertThat(row(s, "fear")).containsExactlyInAnyOrder(bpe.ids("fear")[0], bpe.ids(" fear")[0])
                    .doesNotContain(f);
            assertThat(row(s, "love")).containsExactlyInAnyOrder(bpe.ids("love")[0], bpe.ids(" love")[0])
                    .doesNotContain(l);
            // "surprise" is "sur" + ... in the prompt: " sur" covers as much and counts; "S" does not.
            assertThat(row(s, "surprise")).contains(bpe.ids("sur")[0], bpe.ids(" sur")[0]).doesNotContain(bigS);
            // "None" is "Non" + "e": three of four letters, less than the in-prompt "none" covers.
            assertThat(row(s, "none")).doesNotContain(bpe.ids("Non")[0]);
            assertThat(s.labelOf(f)).isEqualTo(-1);
            assertThat(s.rejected()).anyMatch(m -> m.contains("'Fear' of 'fear'"))
                    .anyMatch(m -> m.contains("'Love' of 'love'")).anyMatch(m -> m.contains("'None' of 'none'"));
        }
    }

    @Test
    void sentencePieceVariantsAreTakenAsTheyStandInText() throws Exception {
        SentencePieceBpe sp = new SentencePieceBpe(SentencePieceBpe.Layout.PREPEND_NORMALIZER,
                List.of("Input", "\u2581Input", ":", "label", "joy", "\u2581joy", "Joy", "fear", "\u2581fear", "none",
                        "\u2581none"));
        Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB));
        Files.delete(dir.resolve("tokenizer.json"));
        sp.write(dir.resolve("tokenizer.json"));
        try (LlmModel model = LlmModel.load(dir, RuntimeConfig.cpu());
             LabelDecoder d = new LabelDecoder(model, task(List.of("joy", "fear")), false)) {
            LabelSpace s = d.labelSpace();
            // "Joy" without a space (as after `["`) is a variant; a standalone encode would have given "▁Joy"'s pieces.
            assertThat(row(s, "joy")).contains((long) sp.id("joy"), (long) sp.id("\u2581joy"), (long) sp.id("Joy"));
            assertThat(row(s, "fear")).containsExactlyInAnyOrder((long) sp.id("fear"), (long) sp.id("\u2581fear"))
                    .doesNotContain((long) sp.id("F"));
            assertThat(s.rejected()).anyMatch(m -> m.contains("'Fear' of 'fear'"));
            assertThat(Arrays.stream(row(s, "joy")).anyMatch(t -> t == sp.id("J"))).isFalse();
        }
        // A comma-list answer starts its line: the demos write "joy" there, not "▁joy".
        try (LlmModel model = LlmModel.load(dir, RuntimeConfig.cpu());
             LabelDecoder d = new LabelDecoder(model, task(List.of("joy", "fear")).withFormat(OutputFormat.COMMA_LIST),
                     false)) {
            LabelSpace s = d.labelSpace();
            assertThat(s.inPromptToken(s.names().indexOf("joy"))).isEqualTo((long) sp.id("joy"));
        }
    }
}
