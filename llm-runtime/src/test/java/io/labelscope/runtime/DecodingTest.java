package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.GreedyDecoder;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.task.Demo;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.ReferenceLlama;
import io.labelscope.runtime.testing.TinyCheckpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Greedy decoding: KV cache = recompute = the reference; batches = single runs; prefix reuse = no reuse. */
class DecodingTest {

    @TempDir
    static Path dir;
    static TinyCheckpoint ck;
    static LlmModel model;

    static final List<String> DOCS = List.of("I am happy today", "it was scary", "so sad", "I am so happy it is great",
            "today", "it is a b", "I was sad and happy and scary today so", "great");

    @BeforeAll
    static void load() throws Exception {
        ck = Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB).withArch("Qwen2ForCausalLM").withSeed(7));
        model = LlmModel.load(dir, RuntimeConfig.cpu().withMaxBatchSize(8));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static TaskDefinition task() {
        List<Demo> pool = List.of(new Demo("I am happy", List.of("joy")), new Demo("it is scary", List.of("fear")),
                new Demo("so sad and scary", List.of("fear", "sadness")), new Demo("today", List.of()),
                new Demo("great and happy", List.of("joy", "optimism")));
        return TaskDefinition.defaults("t", List.of("joy", "optimism", "fear", "sadness"), pool, 4, 11)
                .withMaxNewTokens(12);
    }

    static List<long[]> prompts(int n) {
        List<long[]> ps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ps.add(model.encode("Input: " + DOCS.get(i % DOCS.size()), true));
        }
        return ps;
    }

    @Test
    void kvCacheEqualsRecomputeAndReference() {
        GreedyDecoder d = new GreedyDecoder(model);
        List<long[]> ps = prompts(3);
        GreedyDecoder.Options opt = new GreedyDecoder.Options(10, null, false);
        List<GreedyDecoder.Raw> cached = d.decode(null, ps, null, opt, null);
        List<GreedyDecoder.Raw> recomputed = d.decode(null, ps, null, opt.withRecompute(true), null);
        ReferenceLlama ref = new ReferenceLlama(ck);
        for (int i = 0; i < ps.size(); i++) {
            assertThat(cached.get(i).ids()).containsExactly(recomputed.get(i).ids());
            // Independent greedy decode in double precision.
            List<Integer> seq = new ArrayList<>();
            for (long t : ps.get(i)) {
                seq.add((int) t);
            }
            long[] want = new long[cached.get(i).ids().length];
            for (int s = 0; s < want.length; s++) {
                double[][] lg = ref.logits(seq.stream().mapToInt(Integer::intValue).toArray());
                double[] last = lg[lg.length - 1];
                int arg = 0;
                for (int v = 1; v < last.length; v++) {
                    if (last[v] > last[arg]) {
                        arg = v;
                    }
                }
                want[s] = arg;
                seq.add(arg);
            }
            assertThat(cached.get(i).ids()).containsExactly(want);
        }
    }

    @Test
    void batchOfEightEqualsEightSingleRuns() {
        try (LabelDecoder ld = new LabelDecoder(model, task(), false)) {
            List<String> docs = DOCS.subList(0, 8);
            List<GenerationResult> batch = ld.classify(docs);
            for (int i = 0; i < docs.size(); i++) {
                GenerationResult single = ld.classify(List.of(docs.get(i))).get(0);
                assertSame(batch.get(i), single);
            }
        }
    }

    @Test
    void rowsFinishingAtDifferentStepsLeaveTheOthersUnchanged() {
        // Forced answers of different lengths: rows stop one by one and are dropped from the batch's cache.
        List<String> answers = List.of("\n{\"label\": [\"joy\"]}", "\n{\"label\": [\"joy\", \"fear\", \"sadness\"]}",
                "\n{", "\n{\"label\": [\"optimism\", \"none\"]}", "\n{\"label\": [", "\n{\"label\": [\"fear\", \"joy\"]}",
                "\n{\"label\": [\"sadness\"]}", "\n{\"label\": [\"joy\", \"joy\", \"joy\"]}");
        for (boolean reuse : new boolean[] {true, false}) {
            try (LabelDecoder ld = new LabelDecoder(model, task().withMaxNewTokens(30), reuse)) {
                List<GenerationResult> batch = ld.score(DOCS, answers);
                int totalSteps = 0;
                for (int i = 0; i < DOCS.size(); i++) {
                    GenerationResult single = ld.score(List.of(DOCS.get(i)), List.of(answers.get(i))).get(0);
                    assertSame(batch.get(i), single);
                    totalSteps += batch.get(i).steps().size();
                }
                assertThat(totalSteps).isEqualTo(12); // one per written label; no step inside a label
            }
        }
    }

    @Test
    void prefixReuseEqualsNoReuse() {
        try (LabelDecoder with = new LabelDecoder(model, task(), true);
             LabelDecoder without = new LabelDecoder(model, task(), false)) {
            List<GenerationResult> a = with.classify(DOCS);
            List<GenerationResult> b = without.classify(DOCS);
            for (int i = 0; i < DOCS.size(); i++) {
                assertSame(a.get(i), b.get(i));
                assertThat(a.get(i).promptTokens()).isEqualTo(b.get(i).promptTokens());
            }
        }
    }

    @Test
    void forcedAnswersMatchReferenceStepLogits() {
        try (LabelDecoder with = new LabelDecoder(model, task(), true);
             LabelDecoder without = new LabelDecoder(model, task(), false)) {
            String answer = "\n{\"label\": [\"joy\", \"fear\", \"sadness\"]}";
            GenerationResult a = with.score(List.of("I am happy today"), List.of(answer)).get(0);
            GenerationResult b = without.score(List.of("I am happy today"), List.of(answer)).get(0);
            assertSame(a, b);
            assertThat(a.steps()).hasSize(3);
        }
    }

    static void assertSame(GenerationResult a, GenerationResult b) {
        assertThat(a.generatedIds()).containsExactly(b.generatedIds());
        assertThat(a.answer()).isEqualTo(b.answer());
        assertThat(a.stopReason()).isEqualTo(b.stopReason());
        assertThat(a.steps()).hasSameSizeAs(b.steps());
        for (int s = 0; s < a.steps().size(); s++) {
            double[] x = a.steps().get(s).rawLogits();
            double[] y = b.steps().get(s).rawLogits();
            for (int j = 0; j < x.length; j++) {
                assertThat(x[j]).isCloseTo(y[j], org.assertj.core.api.Assertions.within(1e-4 * Math.max(1, Math.abs(y[j]))));
            }
            assertThat(a.steps().get(s).tokenIndex()).isEqualTo(b.steps().get(s).tokenIndex());
        }
    }
}
