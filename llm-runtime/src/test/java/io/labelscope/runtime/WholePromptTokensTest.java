package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.decode.LabelStepRecord;
import io.labelscope.runtime.decode.ProbeScorer;
import io.labelscope.runtime.task.Breakdown;
import io.labelscope.runtime.task.Demo;
import io.labelscope.runtime.task.ProbePrompts;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskMethod;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.SentencePieceBpe;
import io.labelscope.runtime.testing.TinyCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue #16 item 2: the ids fed to the model equal tokenising the whole prompt in one piece, for every tokenizer
 * family Hugging Face checkpoints ship, with and without prefix reuse, for generation, forced answers and breakdown
 * probes. SentencePiece layouts are where tokenising the query apart from the prefix puts a {@code ▁} at the boundary
 * ({@code ▁Input} instead of {@code Input}).
 */
class WholePromptTokensTest {

    enum Family { BYTE_LEVEL_GPT2, BYTE_LEVEL_LLAMA3, SP_PREPEND_NORMALIZER, SP_METASPACE_FIRST, SP_METASPACE_ALWAYS }

    /** SentencePiece-form words: enough merges that the prompt's words are whole tokens, the rest splits. */
    static final List<String> SP_WORDS = List.of("Input", "\u2581Input", ":", "\u2581joy", "joy", "\u2581fear", "fear",
            "\u2581anger", "anger", "label", "\u2581I", "\u2581am", "\u2581happy", "\u2581so", "\u2581today", "none",
            "\u2581Question", "Question", "\u2581Label", "Label", "\u2581is", "\u2581the", "\u2581it");

    static final List<String> LABELS = List.of("joy", "fear", "anger");
    static final List<String> DOCS = List.of("I am so happy today", "it is the anger", "so", "fear: joy");

    @TempDir
    Path dir;

    static void writeTokenizer(Family f, Path dir) throws IOException {
        Path file = dir.resolve("tokenizer.json");
        Files.delete(file);
        switch (f) {
            case BYTE_LEVEL_GPT2 -> Fixtures.tokenizer().write(file, false);
            case BYTE_LEVEL_LLAMA3 -> Fixtures.tokenizer().write(file, true);
            case SP_PREPEND_NORMALIZER -> sp(SentencePieceBpe.Layout.PREPEND_NORMALIZER).write(file);
            case SP_METASPACE_FIRST -> sp(SentencePieceBpe.Layout.METASPACE_FIRST).write(file);
            case SP_METASPACE_ALWAYS -> sp(SentencePieceBpe.Layout.METASPACE_ALWAYS).write(file);
            default -> throw new IllegalStateException();
        }
    }

    static SentencePieceBpe sp(SentencePieceBpe.Layout layout) {
        SentencePieceBpe t = new SentencePieceBpe(layout, SP_WORDS);
        assertThat(t.size()).isLessThanOrEqualTo(Fixtures.VOCAB);
        return t;
    }

    static LlmModel load(Family f, Path dir) throws IOException {
        Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB).withSeed(21));
        writeTokenizer(f, dir);
        return LlmModel.load(dir, RuntimeConfig.cpu());
    }

    static TaskDefinition task() {
        List<Demo> pool = List.of(new Demo("I am happy", List.of("joy")), new Demo("it is the fear", List.of("fear")),
                new Demo("so happy and anger", List.of("joy", "anger")));
        return TaskDefinition.defaults("emo", LABELS, pool, 3, 7).withMaxNewTokens(6)
                .withBreakdown(Breakdown.defaults()
                        .withMethods(List.of(TaskMethod.GENERATE, TaskMethod.UNARY, TaskMethod.BINARY)).withK(1));
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void generationFeedsTheWholePromptsIdsWithAndWithoutReuse(Family f) throws IOException {
        try (LlmModel model = load(f, dir);
             LabelDecoder shared = new LabelDecoder(model, task(), true);
             LabelDecoder alone = new LabelDecoder(model, task(), false)) {
            for (String doc : DOCS) {
                long[] whole = model.encode(shared.renderer().prompt(doc), true);
                assertThat(shared.promptIds(doc)).as(f + ": ids of '" + doc + "'").containsExactly(whole);
                assertThat(alone.promptIds(doc)).containsExactly(whole);
            }
            List<GenerationResult> a = shared.classify(DOCS);
            List<GenerationResult> b = alone.classify(DOCS);
            for (int i = 0; i < DOCS.size(); i++) {
                assertThat(a.get(i).promptTokens()).isEqualTo(model.encode(shared.renderer().prompt(DOCS.get(i)),
                        true).length);
                assertThat(a.get(i).generatedIds()).containsExactly(b.get(i).generatedIds());
                assertSameSteps(a.get(i), b.get(i));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void forcedAnswersAreTheTailOfTheWholeTokenisation(Family f) throws IOException {
        String answer = "\n{\"label\": [\"fear\", \"joy\"]}";
        TaskDefinition t = task().withMaxNewTokens(40);
        try (LlmModel model = load(f, dir);
             LabelDecoder shared = new LabelDecoder(model, t, true);
             LabelDecoder alone = new LabelDecoder(model, t, false)) {
            for (String doc : DOCS) {
                String prompt = shared.renderer().prompt(doc);
                long[] promptIds = model.encode(prompt, true);
                long[] all = model.encode(prompt + answer, true);
                long[] tail = java.util.Arrays.copyOfRange(all, promptIds.length, all.length);
                GenerationResult a = shared.score(List.of(doc), List.of(answer)).get(0);
                GenerationResult b = alone.score(List.of(doc), List.of(answer)).get(0);
                assertThat(a.generatedIds()).as(f + ": forced ids after '" + doc + "'").containsExactly(tail);
                assertThat(b.generatedIds()).containsExactly(tail);
                assertThat(a.steps()).hasSize(2);
                assertSameSteps(a, b);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Family.class)
    void everyProbeIsTheWholeProbeTokenised(Family f) throws IOException {
        try (LlmModel model = load(f, dir);
             ProbeScorer shared = new ProbeScorer(model, task(), true);
             ProbeScorer alone = new ProbeScorer(model, task(), false)) {
            for (String doc : DOCS) {
                ProbePrompts.Probes unary = shared.prompts().unary(doc);
                for (int i = 0; i < unary.suffixes().size(); i++) {
                    long[] whole = model.encode(unary.prompt(i), true);
                    assertThat(shared.promptIds(TaskMethod.UNARY, doc, i)).as(f + ": unary probe " + i)
                            .containsExactly(whole);
                }
                ProbePrompts.Probes binary = shared.prompts().binary(doc);
                for (int i = 0; i < binary.suffixes().size(); i++) {
                    assertThat(shared.promptIds(TaskMethod.BINARY, doc, i)).as(f + ": binary probe " + i)
                            .containsExactly(model.encode(binary.prompt(i), true));
                }
            }
            List<ProbeScorer.UnaryResult> a = shared.unary(DOCS);
            List<ProbeScorer.UnaryResult> b = alone.unary(DOCS);
            for (int d = 0; d < DOCS.size(); d++) {
                for (int i = 0; i < a.get(d).reasonable().length; i++) {
                    assertThat(a.get(d).reasonable()[i]).isCloseTo(b.get(d).reasonable()[i], within(1e-3));
                    assertThat(a.get(d).unreasonable()[i]).isCloseTo(b.get(d).unreasonable()[i], within(1e-3));
                }
            }
        }
    }

    static void assertSameSteps(GenerationResult a, GenerationResult b) {
        assertThat(a.steps()).hasSameSizeAs(b.steps());
        for (int s = 0; s < a.steps().size(); s++) {
            LabelStepRecord x = a.steps().get(s);
            LabelStepRecord y = b.steps().get(s);
            assertThat(x.tokenIndex()).isEqualTo(y.tokenIndex());
            for (int l = 0; l < x.rawLogits().length; l++) {
                assertThat(x.rawLogits()[l]).isCloseTo(y.rawLogits()[l], within(1e-3));
            }
        }
    }
}
