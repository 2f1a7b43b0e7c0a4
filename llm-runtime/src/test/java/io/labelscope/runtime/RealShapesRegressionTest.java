package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import io.labelscope.runtime.model.KvCache;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.RealShapes;
import io.labelscope.runtime.testing.RealShapes.Family;
import io.labelscope.runtime.testing.ReferenceLlama;
import io.labelscope.runtime.testing.TinyCheckpoint;
import io.labelscope.runtime.testing.TinyCheckpoint.FileType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checkpoints of real Hugging Face shapes ({@link RealShapes}: the published config fields and tensor names, the real
 * vocabulary sizes, BF16, three shards with {@code model.safetensors.index.json}) against the float64 transformers
 * reference: logits within 1e-3 (largest error over largest logit) on prefill, on KV-cached decoding token by token
 * and on left-padded batches; and the same comparison shown to fail when rope scaling, biases or windows are dropped.
 */
class RealShapesRegressionTest {

    static final double TOLERANCE = 1e-3;
    static final int LENGTH = 24;

    @TempDir
    Path tmp;

    static Stream<Family> families() {
        return Stream.of(RealShapes.llama32(), RealShapes.qwen25(), RealShapes.qwen25Windowed(),
                RealShapes.qwen25Windowed().with("layer_types", "layer_types",
                        List.of("sliding_attention", "full_attention", "sliding_attention", "full_attention")),
                RealShapes.mistral03(), RealShapes.mistralWindowed(), RealShapes.smolLm2());
    }

    /** Token ids spread over the whole real vocabulary (high rows of the embedding included). */
    static int[] tokens(long seed, int n, int vocab) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = i % 5 == 4 ? vocab - 1 - r.nextInt(64) : r.nextInt(vocab);
        }
        return t;
    }

    private Path write(Family f, TinyCheckpoint ck) throws Exception {
        Path dir = tmp.resolve(f.name().replace('/', '_'));
        ck.write(dir, FileType.BF16, 3, Fixtures.tokenizer());
        assertThat(dir.resolve("model.safetensors.index.json")).exists();
        return dir;
    }

    private static long[] longs(int[] a, int from, int to) {
        long[] out = new long[to - from];
        for (int i = from; i < to; i++) {
            out[i - from] = a[i];
        }
        return out;
    }

    private static void within(float[] got, double[] want, String what) {
        assertThat(Fixtures.relErr(got, want)).as(what).isLessThan(TOLERANCE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void prefillDecodeAndPaddedBatchMatchTheFloat64Reference(Family f) throws Exception {
        TinyCheckpoint ck = f.checkpoint(11).roundTo(FileType.BF16);
        Path dir = write(f, ck);
        int vocab = ck.spec.vocab();
        int[] a = tokens(1, LENGTH, vocab);
        int[] b = tokens(2, LENGTH - 7, vocab);
        ReferenceLlama ref = new ReferenceLlama(ck);
        double[][] refA = ref.logits(a);
        double[][] refB = ref.logits(b);
        try (LlmModel m = LlmModel.load(dir, RuntimeConfig.cpu())) {
            assertThat(m.config().layerWindows()).as("windows per layer")
                    .containsExactly(Arrays.stream(ref.windows()).boxed().toArray(Integer[]::new));
            // Prefill: every position of the whole sequence in one pass.
            float[][] got = ForwardPassTest.runtimeLogits(m, a);
            for (int i = 0; i < LENGTH; i++) {
                within(got[i], refA[i], f + " prefill position " + i);
            }
            // Left-padded batch: prefill 10 of a and 3 of b (b padded by 7), then decode both token by token.
            try (NDManager step = m.manager().newSubManager(); KvCache cache = m.lm().newCache(m.manager(), 2)) {
                long[][] first = new long[2][10];
                Arrays.fill(first[1], -1);
                System.arraycopy(longs(a, 0, 10), 0, first[0], 0, 10);
                System.arraycopy(longs(b, 0, 3), 0, first[1], 7, 3);
                float[] last = m.lm().forward(step, first, cache, true).toFloatArray();
                within(Arrays.copyOfRange(last, 0, vocab), refA[9], f + " padded prefill row 0");
                within(Arrays.copyOfRange(last, vocab, 2 * vocab), refB[2], f + " padded prefill row 1");
                for (int i = 10; i < LENGTH; i++) {
                    int j = i - 7;
                    long[][] next = {{a[i]}, {j < b.length ? b[j] : -1}};
                    last = m.lm().forward(step, next, cache, true).toFloatArray();
                    within(Arrays.copyOfRange(last, 0, vocab), refA[i], f + " cached decode row 0 position " + i);
                    if (j < b.length) {
                        within(Arrays.copyOfRange(last, vocab, 2 * vocab), refB[j],
                                f + " cached decode row 1 position " + j);
                    }
                }
            }
        }
    }

    /** BF16 files in F16 compute (converted chunk by chunk, BF16 → F16 directly) stay near the F32 reference. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("families")
    void f16ComputeFromBf16FilesStaysCloseToTheReference(Family f) throws Exception {
        TinyCheckpoint ck = f.checkpoint(11).roundTo(FileType.BF16);
        Path dir = write(f, ck);
        int[] a = tokens(1, LENGTH, ck.spec.vocab());
        double[][] ref = new ReferenceLlama(ck).logits(a);
        try (LlmModel m = LlmModel.load(dir, RuntimeConfig.cpu().withDtype(RuntimeConfig.ComputeType.F16))) {
            assertThat(worst(ForwardPassTest.runtimeLogits(m, a), ref)).as(f.name()).isLessThan(2e-2);
        }
    }

    /** Largest relative error over the positions of a sequence between the runtime and a reference. */
    private static double worst(float[][] got, double[][] ref) {
        double w = 0;
        for (int i = 0; i < got.length; i++) {
            w = Math.max(w, Fixtures.relErr(got[i], ref[i]));
        }
        return w;
    }

    /** The comparison has teeth: a reference without the family's feature is outside the tolerance. */
    @Test
    void droppingRopeScalingBiasesOrWindowsFailsTheComparison() throws Exception {
        record Case(Family family, java.util.function.UnaryOperator<ReferenceLlama> drop, String what) {}
        List<Case> cases = List.of(
                new Case(RealShapes.llama32(), ReferenceLlama::withoutRopeScaling, "llama3 rope scaling"),
                new Case(RealShapes.qwen25(), ReferenceLlama::withoutBiases, "Qwen2 q/k/v biases"),
                new Case(RealShapes.qwen25Windowed(), ReferenceLlama::withoutWindows, "Qwen2 windows"),
                new Case(RealShapes.qwen25Windowed(), ReferenceLlama::withWindowOnEveryLayer,
                        "Qwen2 max_window_layers (window on every layer)"),
                new Case(RealShapes.mistralWindowed(), ReferenceLlama::withoutWindows, "Mistral window"));
        for (Case c : cases) {
            TinyCheckpoint ck = c.family().checkpoint(11).roundTo(FileType.BF16);
            Path dir = write(c.family(), ck);
            int[] a = tokens(1, LENGTH, ck.spec.vocab());
            ReferenceLlama ref = new ReferenceLlama(ck);
            try (LlmModel m = LlmModel.load(dir, RuntimeConfig.cpu())) {
                float[][] got = ForwardPassTest.runtimeLogits(m, a);
                assertThat(worst(got, ref.logits(a))).as(c.what() + " kept").isLessThan(TOLERANCE);
                assertThat(worst(got, c.drop().apply(ref).logits(a))).as(c.what() + " dropped")
                        .isGreaterThan(10 * TOLERANCE);
            }
        }
    }

    @Test
    void qwenInstructStopsOnImEndAndOnEndOfText() throws Exception {
        Family f = RealShapes.qwen25();
        TinyCheckpoint ck = f.checkpoint(11);
        Path dir = write(f, ck);
        try (LlmModel m = LlmModel.load(dir, RuntimeConfig.cpu())) {
            assertThat(m.config().eosTokenIds()).containsExactly(151645, 151643);
            assertThat(m.config().bosTokenId()).isEqualTo(151643);
            io.labelscope.runtime.decode.GreedyDecoder g = new io.labelscope.runtime.decode.GreedyDecoder(m);
            try (io.labelscope.runtime.decode.GreedyDecoder.Prefix none = g.prefill(new long[] {4})) {
                long word = Fixtures.tokenizer().size() - 1;
                List<io.labelscope.runtime.decode.GreedyDecoder.Raw> raws = g.decode(none,
                        List.of(new long[] {5, 6}, new long[] {5, 6}),
                        List.of(new long[] {word, 151645, word}, new long[] {word, 151643, word}),
                        io.labelscope.runtime.decode.GreedyDecoder.Options.of(3), null);
                for (var r : raws) {
                    assertThat(r.stop()).isEqualTo(io.labelscope.runtime.decode.StopReason.EOS);
                    assertThat(r.ids()).hasSize(2);
                }
            }
        }
        // Without generation_config.json only config.json's <|im_end|> stops.
        Files.delete(dir.resolve("generation_config.json"));
        assertThat(io.labelscope.runtime.model.ModelConfig.load(dir).eosTokenIds()).containsExactly(151645);
    }
}
