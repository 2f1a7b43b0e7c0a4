package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelStepRecord;
import io.labelscope.runtime.decode.StopReason;
import io.labelscope.runtime.task.Demo;
import io.labelscope.runtime.task.LabelSpace;
import io.labelscope.runtime.task.OutputFormat;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.testing.ByteBpe;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.ReferenceLlama;
import io.labelscope.runtime.testing.TinyCheckpoint;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Label steps on hand-built answers (scored by teacher forcing): multi-token labels, surface variants that differ
 * ({@code " joy"} vs {@code Joy}), repeats, {@code none}, unknown strings, tokens outside the list, stops, and
 * {@code compat=code}. Raw logits are checked against the plain-Java reference.
 */
class LabelStepsTest {

    @TempDir
    static Path dir;
    static TinyCheckpoint ck;
    static LlmModel model;
    static final List<String> LABELS = List.of("joy", "optimism", "surprise", "fear", "anger");
    static final String DOC = "I am so happy today";

    @BeforeAll
    static void load() throws Exception {
        ck = Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB).withSeed(3));
        model = LlmModel.load(dir, RuntimeConfig.cpu());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static TaskDefinition task(OutputFormat f, boolean compat) {
        List<Demo> pool = List.of(new Demo("I am happy", List.of("joy")), new Demo("it is scary", List.of("fear")),
                new Demo("great and so happy", List.of("joy", "optimism")));
        return TaskDefinition.defaults("emo", LABELS, pool, 3, 5).withFormat(f).withCompatCode(compat)
                .withMaxNewTokens(40);
    }

    /** Score one forced answer and check every step's logits against the reference. */
    static GenerationResult scoreAndCheck(TaskDefinition t, String answer) {
        try (LabelDecoder d = new LabelDecoder(model, t, true)) {
            GenerationResult r = d.score(List.of(DOC), List.of(answer)).get(0);
            long[] prompt = d.promptIds(DOC);
            LabelSpace space = d.labelSpace();
            ReferenceLlama ref = new ReferenceLlama(ck);
            for (LabelStepRecord s : r.steps()) {
                assertThat(Arrays.stream(s.probabilities()).sum()).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-12));
                assertThat(s.rawLogits()).hasSize(LABELS.size() + 1);
                assertThat(r.generatedIds()[s.tokenIndex()]).isEqualTo(s.tokenId());
                assertThat(s.tokenPosition()).isEqualTo(prompt.length + s.tokenIndex());
                int[] seq = new int[prompt.length + s.tokenIndex()];
                for (int i = 0; i < prompt.length; i++) {
                    seq[i] = (int) prompt[i];
                }
                for (int i = 0; i < s.tokenIndex(); i++) {
                    seq[prompt.length + i] = (int) r.generatedIds()[i];
                }
                double[][] all = ref.logits(seq);
                double[] row = all[all.length - 1];
                double scaleMax = Arrays.stream(row).map(Math::abs).max().orElse(1);
                for (int l = 0; l <= LABELS.size(); l++) {
                    double want = Arrays.stream(space.tokens(l)).mapToDouble(tk -> row[(int) tk]).max().orElseThrow();
                    assertThat(Math.abs(s.rawLogits()[l] - want) / scaleMax).as("label %d", l).isLessThan(1e-4);
                }
            }
            return r;
        }
    }

    static List<String> generated(GenerationResult r) {
        return r.steps().stream().map(LabelStepRecord::generatedLabel).collect(Collectors.toList());
    }

    @Test
    void labelSpaceHasVariantsAndMultiTokenLabels() {
        try (LabelDecoder d = new LabelDecoder(model, task(OutputFormat.JSON_LIST, false), true)) {
            LabelSpace space = d.labelSpace();
            ByteBpe bpe = Fixtures.tokenizer();
            Set<Long> joy = Arrays.stream(space.tokens(0)).boxed().collect(Collectors.toSet());
            assertThat(joy).containsExactlyInAnyOrder((long) bpe.ids("joy")[0], (long) bpe.ids("Joy")[0],
                    (long) bpe.ids(" joy")[0], (long) bpe.ids(" Joy")[0]);
            assertThat(space.inPromptToken(0)).isEqualTo(bpe.ids("joy")[0]);
            assertThat(bpe.ids("optimism").length).isGreaterThan(1);
            assertThat(bpe.ids("surprise").length).isGreaterThan(1);
            assertThat(space.labelOf(bpe.ids("optimism")[0])).isEqualTo(1);
            assertThat(space.labelOf(bpe.ids("surprise")[0])).isEqualTo(2);
            assertThat(space.labelOf(bpe.ids("none")[0])).isEqualTo(5);
            // A bare-space first token (" Fear" starts with " " alone) scores nothing.
            assertThat(space.labelOf(bpe.ids(" ")[0])).isEqualTo(-1);
        }
    }

    @Test
    void jsonAnswerWithVariantsRepeatsAndNone() {
        GenerationResult r = scoreAndCheck(task(OutputFormat.JSON_LIST, false),
                "\n{\"label\": [\"Joy\", \"optimism\", \"joy\", \"none\", \"surprise\"]}");
        assertThat(generated(r)).containsExactly("joy", "optimism", "joy", "none", "surprise");
        assertThat(r.parsedLabels()).containsExactly("joy", "optimism", "joy", "none", "surprise");
        assertThat(r.steps()).extracting(LabelStepRecord::step).containsExactly(0, 1, 2, 3, 4);
        assertThat(r.stopReason()).isEqualTo(StopReason.EOS); // forced answer exhausted
    }

    @Test
    void compatCodeCountsFirstOccurrenceOfInPromptFormOnly() {
        GenerationResult r = scoreAndCheck(task(OutputFormat.JSON_LIST, true),
                "\n{\"label\": [\"Joy\", \"optimism\", \"joy\", \"joy\", \"none\"]}");
        // "Joy" is not the in-prompt form; the second "joy" repeats.
        assertThat(generated(r)).containsExactly("optimism", "joy", "none");
        assertThat(r.parsedLabels()).containsExactly("joy", "optimism", "joy", "joy", "none");
    }

    @Test
    void labelTokensOutsideTheListMakeNoStep() {
        GenerationResult r = scoreAndCheck(task(OutputFormat.JSON_LIST, false),
                " joy fear\n{\"label\": [\"fear\"]} anger");
        assertThat(generated(r)).containsExactly("fear");
        assertThat(r.parsedLabels()).containsExactly("fear");
    }

    @Test
    void unknownStringsAreKeptAsGenerated() {
        GenerationResult r = scoreAndCheck(task(OutputFormat.JSON_LIST, false),
                "\n{\"label\": [\"joyful\", \"happy\", \"anger\"]}");
        assertThat(generated(r)).containsExactly("joyful", "anger");
        assertThat(r.parsedLabels()).containsExactly("joyful", "happy", "anger");
    }

    @Test
    void markerStopsAndLaterLabelsAreIgnored() {
        GenerationResult r = scoreAndCheck(task(OutputFormat.JSON_LIST, false),
                "\n{\"label\": [\"joy\"]}\nInput: it is scary\n{\"label\": [\"fear\"]}");
        assertThat(r.stopReason()).isEqualTo(StopReason.MARKER);
        assertThat(r.answer()).isEqualTo("\n{\"label\": [\"joy\"]}\n");
        assertThat(generated(r)).containsExactly("joy");
        assertThat(r.parsedLabels()).containsExactly("joy");
    }

    @Test
    void commaListFormat() {
        GenerationResult r = scoreAndCheck(task(OutputFormat.COMMA_LIST, false),
                "\njoy, optimism, Joy\nInput: fear");
        assertThat(generated(r)).containsExactly("joy", "optimism", "joy");
        assertThat(r.parsedLabels()).containsExactly("joy", "optimism", "joy");
        assertThat(r.stopReason()).isEqualTo(StopReason.MARKER);
    }

    @Test
    void eosAndMaxTokens() {
        GenerationResult eos = scoreAndCheck(task(OutputFormat.JSON_LIST, false),
                "\n{\"label\": [\"anger\"]}</s>\n{\"label\": [\"joy\"]}");
        assertThat(eos.stopReason()).isEqualTo(StopReason.EOS);
        assertThat(eos.generatedIds()[eos.generatedIds().length - 1]).isEqualTo(ByteBpe.EOS);
        assertThat(generated(eos)).containsExactly("anger");
        try (LabelDecoder d = new LabelDecoder(model, task(OutputFormat.JSON_LIST, false).withMaxNewTokens(7), true)) {
            GenerationResult r = d.score(List.of(DOC), List.of("\n{\"label\": [\"joy\", \"fear\", \"anger\"]}")).get(0);
            assertThat(r.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
            assertThat(r.generatedTokens()).isEqualTo(7);
            // Truncated JSON falls back to substring matching.
            assertThat(r.parsedLabels()).isEqualTo(io.labelscope.runtime.task.AnswerParser.parse(r.answer(), d.task()));
        }
    }

    @Test
    void greedyStepsAreLabelFirstTokens() {
        try (LabelDecoder d = new LabelDecoder(model, task(OutputFormat.JSON_LIST, false), true)) {
            for (GenerationResult r : d.classify(List.of(DOC, "it was scary", "so sad"))) {
                for (LabelStepRecord s : r.steps()) {
                    assertThat(d.labelSpace().labelOf(s.tokenId())).isNotNegative();
                    assertThat(Arrays.stream(s.probabilities()).sum()).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-12));
                }
                assertThat(r.generatedTokens()).isLessThanOrEqualTo(40);
            }
        }
    }
}
