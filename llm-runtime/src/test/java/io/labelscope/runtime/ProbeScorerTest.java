package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.runtime.decode.ProbeScorer;
import io.labelscope.runtime.task.Breakdown;
import io.labelscope.runtime.task.Demo;
import io.labelscope.runtime.task.OptionTokens;
import io.labelscope.runtime.task.ProbePrompts;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskMethod;
import io.labelscope.runtime.testing.ByteBpe;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.ReferenceLlama;
import io.labelscope.runtime.testing.TinyCheckpoint;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Breakdown probes with prefix sharing: each probe's two option logits equal those of the full probe prompt run on
 * its own through the plain-Java double-precision reference, documents scored together equal documents scored
 * alone, and the independent-prompt path (no sharing) agrees.
 */
class ProbeScorerTest {

    @TempDir
    static Path dir;
    static TinyCheckpoint ck;
    static LlmModel model;
    static final List<String> LABELS = List.of("joy", "optimism", "surprise", "fear", "anger");
    static final List<String> DOCS = List.of("I am so happy today", "it was scary", "great, so great and happy",
            "I am sad");

    @BeforeAll
    static void load() throws Exception {
        ck = Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB).withSeed(11));
        model = LlmModel.load(dir, RuntimeConfig.cpu());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** All three methods, two demo blocks per breakdown prompt (so the shared prefix is not trivial). */
    static TaskDefinition task() {
        List<Demo> pool = List.of(new Demo("I am happy", List.of("joy")), new Demo("it is scary", List.of("fear")),
                new Demo("great and so happy", List.of("joy", "optimism")), new Demo("today", List.of()));
        TaskDefinition t = TaskDefinition.defaults("emo", LABELS, pool, 2, 5);
        return t.withBreakdown(Breakdown.defaults()
                .withMethods(List.of(TaskMethod.GENERATE, TaskMethod.UNARY, TaskMethod.BINARY)).withK(2));
    }

    /** max over an option's tokens of the reference's last-position logits of the whole prompt. */
    static double[] reference(long[] prompt, OptionTokens options) {
        int[] seq = Arrays.stream(prompt).mapToInt(x -> (int) x).toArray();
        double[][] all = new ReferenceLlama(ck).logits(seq);
        double[] row = all[all.length - 1];
        double[] out = new double[2];
        for (int o = 0; o < 2; o++) {
            out[o] = Arrays.stream(options.tokens(o)).mapToDouble(t -> row[(int) t]).max().orElseThrow();
        }
        return out;
    }

    @Test
    void everyProbeEqualsItsFullPromptRunAlone() {
        TaskDefinition t = task();
        int before = model.openArrays();
        try (ProbeScorer s = new ProbeScorer(model, t)) {
            List<ProbeScorer.UnaryResult> unary = s.unary(DOCS);
            List<ProbeScorer.BinaryResult> binary = s.binary(DOCS);
            for (int d = 0; d < DOCS.size(); d++) {
                ProbeScorer.UnaryResult u = unary.get(d);
                assertThat(u.items()).containsExactly("joy", "optimism", "surprise", "fear", "anger", "none");
                assertThat(u.reasonable()).hasSize(6);
                for (int i = 0; i < 6; i++) {
                    double[] want = reference(s.promptIds(TaskMethod.UNARY, DOCS.get(d), i), s.options(TaskMethod.UNARY));
                    assertThat(u.reasonable()[i]).as("doc %d item %d", d, i).isCloseTo(want[0], within(1e-4));
                    assertThat(u.unreasonable()[i]).as("doc %d item %d", d, i).isCloseTo(want[1], within(1e-4));
                }
                ProbeScorer.BinaryResult b = binary.get(d);
                assertThat(b.pairs()).hasSize(15);
                for (int i = 0; i < 15; i++) {
                    double[] want = reference(s.promptIds(TaskMethod.BINARY, DOCS.get(d), i), s.options(TaskMethod.BINARY));
                    assertThat(b.logitA()[i]).as("doc %d pair %d", d, i).isCloseTo(want[0], within(1e-4));
                    assertThat(b.logitB()[i]).as("doc %d pair %d", d, i).isCloseTo(want[1], within(1e-4));
                }
                // The prompt ids are prefix + document part + suffix, as rendered.
                ProbePrompts.Probes probes = s.prompts().binary(DOCS.get(d));
                assertThat(model.decode(s.promptIds(TaskMethod.BINARY, DOCS.get(d), 3))).isEqualTo(probes.prompt(3));
                // Tokens: the prefix and the document part once, every suffix.
                int suffixes = probes.suffixes().stream().mapToInt(x -> model.encode(x, false).length).sum();
                assertThat(b.promptTokens()).isEqualTo(model.encode(probes.prefix(), true).length
                        + model.encode(probes.document(), false).length + suffixes);
            }
        }
        assertThat(model.openArrays()).as("no NDArray leaks").isEqualTo(before);
    }

    @Test
    void documentsScoredTogetherEqualDocumentsScoredAloneAndWithoutSharing() {
        TaskDefinition t = task();
        try (ProbeScorer s = new ProbeScorer(model, t);
             ProbeScorer naive = new ProbeScorer(model, t, false);
             ProbeScorer small = new ProbeScorer(model, t, true, 7)) {
            List<ProbeScorer.UnaryResult> together = s.unary(DOCS);
            List<ProbeScorer.BinaryResult> togetherB = s.binary(DOCS);
            // 7 rows per forward: one document per chunk (6 unary probes; 15 binary probes, more than 7, still
            // run together) gives the same logits.
            List<ProbeScorer.UnaryResult> chunkedU = small.unary(DOCS);
            List<ProbeScorer.BinaryResult> chunkedB = small.binary(DOCS);
            List<ProbeScorer.UnaryResult> independent = naive.unary(DOCS);
            List<ProbeScorer.BinaryResult> independentB = naive.binary(DOCS);
            for (int d = 0; d < DOCS.size(); d++) {
                ProbeScorer.UnaryResult alone = s.unary(List.of(DOCS.get(d))).get(0);
                assertThat(chunkedU.get(d).reasonable()).containsExactly(alone.reasonable(), within(1e-5));
                assertThat(chunkedB.get(d).logitA()).containsExactly(togetherB.get(d).logitA(), within(1e-5));
                assertThat(chunkedB.get(d).logitB()).containsExactly(togetherB.get(d).logitB(), within(1e-5));
                assertThat(together.get(d).reasonable()).containsExactly(alone.reasonable(), within(1e-5));
                assertThat(together.get(d).unreasonable()).containsExactly(alone.unreasonable(), within(1e-5));
                assertThat(independent.get(d).reasonable()).containsExactly(alone.reasonable(), within(1e-4));
                ProbeScorer.BinaryResult aloneB = s.binary(List.of(DOCS.get(d))).get(0);
                assertThat(togetherB.get(d).logitA()).containsExactly(aloneB.logitA(), within(1e-5));
                assertThat(togetherB.get(d).logitB()).containsExactly(aloneB.logitB(), within(1e-5));
                assertThat(independentB.get(d).logitB()).containsExactly(aloneB.logitB(), within(1e-4));
                assertThat(independentB.get(d).promptTokens()).isEqualTo(aloneB.promptTokens());
            }
        }
    }

    @Test
    void optionLogitsAreTheMaxOverTheWordsFirstTokens() {
        ByteBpe bpe = Fixtures.tokenizer();
        OptionTokens ab = new OptionTokens(model, "a", "b");
        assertThat(ab.tokens(0)).contains((long) bpe.ids(" a")[0]);
        assertThat(ab.tokens(1)).contains((long) bpe.ids(" b")[0]);
        assertThat(ab.tokens(0)).doesNotContain(ab.tokens(1));
        // "joy" and "Joyful" start with the same tokens in every form: not distinguishable at one position.
        assertThatThrownBy(() -> new OptionTokens(model, "joy", "Joyful"))
                .hasMessageContaining("start with the same token");
        TaskDefinition bad = task().withBreakdown(task().breakdown().withMethods(List.of(TaskMethod.BINARY)));
        TaskDefinition sameStart = new TaskDefinition(bad.name(), bad.labels(), bad.instructionTemplate(),
                bad.demoTemplate(), bad.queryTemplate(), bad.format(), bad.k(), bad.seed(), bad.demoPool(),
                bad.extraVariants(), bad.compatCode(), bad.maxNewTokens(),
                new Breakdown(bad.methods(), Breakdown.DEFAULT_UNARY_INSTRUCTION, Breakdown.DEFAULT_UNARY_TEMPLATE,
                        "reasonable", "unreasonable", Breakdown.DEFAULT_BINARY_INSTRUCTION,
                        Breakdown.DEFAULT_BINARY_TEMPLATE, "joy", "Joyful", bad.breakdown().pairOrder(), 0));
        assertThatThrownBy(() -> new ProbeScorer(model, sameStart)).hasMessageContaining("'joy' and 'Joyful'");
        // A method the task does not run is refused, not silently computed with defaults.
        try (ProbeScorer s = new ProbeScorer(model, bad)) {
            assertThatThrownBy(() -> s.unary(DOCS)).hasMessageContaining("does not run the unary method");
        }
    }
}
