package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.labelscope.runtime.model.KvCache;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.ReferenceLlama;
import io.labelscope.runtime.testing.TinyCheckpoint;
import io.labelscope.runtime.testing.TinyCheckpoint.FileType;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** DJL logits against the independent plain-Java reference, for each architecture and file type. */
class ForwardPassTest {

    @TempDir
    Path tmp;

    static int[] randomTokens(long seed, int n) {
        Random r = new Random(seed);
        int[] t = new int[n];
        t[0] = 0;
        for (int i = 1; i < n; i++) {
            t[i] = 3 + r.nextInt(Fixtures.tokenizer().size() - 3);
        }
        return t;
    }

    /** Full-sequence logits from the runtime, [T][V]. */
    static float[][] runtimeLogits(LlmModel m, int[] tokens) {
        long[][] row = new long[1][tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            row[0][i] = tokens[i];
        }
        try (NDManager step = m.manager().newSubManager();
             KvCache cache = m.lm().newCache(m.manager(), 1)) {
            NDArray logits = m.lm().forward(step, row, cache, false);
            float[] flat = logits.toFloatArray();
            int v = m.config().vocabSize();
            float[][] out = new float[tokens.length][v];
            for (int i = 0; i < tokens.length; i++) {
                System.arraycopy(flat, i * v, out[i], 0, v);
            }
            return out;
        }
    }

    static void assertMatchesReference(LlmModel m, TinyCheckpoint ck, int[] tokens, double tol) {
        double[][] ref = new ReferenceLlama(ck).logits(tokens);
        float[][] got = runtimeLogits(m, tokens);
        for (int i = 0; i < tokens.length; i++) {
            assertThat(Fixtures.relErr(got[i], ref[i])).as("position %d", i).isLessThan(tol);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"})
    void logitsMatchReferencePerArchitecture(String arch) throws Exception {
        TinyCheckpoint ck = Fixtures.write(tmp, TinyCheckpoint.tiny(Fixtures.VOCAB).withArch(arch));
        try (LlmModel m = LlmModel.load(tmp, RuntimeConfig.cpu())) {
            assertThat(m.config().attentionBias()).isEqualTo(arch.equals("Qwen2ForCausalLM"));
            assertMatchesReference(m, ck, randomTokens(1, 24), 1e-4);
        }
    }

    @Test
    void llama3RopeScalingAndTiedEmbeddings() throws Exception {
        TinyCheckpoint ck = Fixtures.write(tmp,
                TinyCheckpoint.tiny(Fixtures.VOCAB).withRopeScaling(8.0).withTie(true));
        try (LlmModel m = LlmModel.load(tmp, RuntimeConfig.cpu())) {
            assertThat(m.config().ropeScaling().type()).isEqualTo("llama3");
            int[] toks = randomTokens(2, 40);
            assertMatchesReference(m, ck, toks, 1e-4);
            // The scaling matters: a reference without it disagrees.
            TinyCheckpoint unscaled = new TinyCheckpoint(ck.spec.withRopeScaling(0));
            double[][] ref = new ReferenceLlama(unscaled).logits(toks);
            float[][] got = runtimeLogits(m, toks);
            assertThat(Fixtures.relErr(got[39], ref[39])).isGreaterThan(1e-3);
        }
    }

    @Test
    void mistralSlidingWindowMatchesReferenceWithCacheAndBatch() throws Exception {
        TinyCheckpoint ck = Fixtures.write(tmp, TinyCheckpoint.tiny(Fixtures.VOCAB).withArch("MistralForCausalLM"));
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode cfg =
                (com.fasterxml.jackson.databind.node.ObjectNode) om.readTree(tmp.resolve("config.json").toFile());
        cfg.put("sliding_window", 5);
        om.writeValue(tmp.resolve("config.json").toFile(), cfg);
        int[] toks = randomTokens(6, 20);
        try (LlmModel m = LlmModel.load(tmp, RuntimeConfig.cpu())) {
            assertThat(m.config().slidingWindow()).isEqualTo(5);
            double[][] ref = new ReferenceLlama(ck, 5).logits(toks);
            float[][] got = runtimeLogits(m, toks);
            for (int i = 0; i < toks.length; i++) {
                assertThat(Fixtures.relErr(got[i], ref[i])).as("position %d", i).isLessThan(1e-4);
            }
            // The window matters: without it the late positions differ.
            double[][] full = new ReferenceLlama(ck).logits(toks);
            assertThat(Fixtures.relErr(got[19], full[19])).isGreaterThan(1e-3);
            // Token by token through the cache, left-padded next to a longer row: same last logits.
            long[][] rows = new long[2][];
            rows[0] = new long[] {-1, -1, -1, toks[0], toks[1], toks[2]};
            rows[1] = new long[] {toks[0], toks[1], toks[2], toks[3], toks[4], toks[5]};
            try (ai.djl.ndarray.NDManager step = m.manager().newSubManager();
                 KvCache cache = m.lm().newCache(m.manager(), 2)) {
                m.lm().forward(step, rows, cache, true);
                float[] last = null;
                for (int i = 3; i < toks.length; i++) {
                    last = m.lm().forward(step, new long[][] {{toks[i]}, {0}}, cache, true).toFloatArray();
                }
                float[] row0 = java.util.Arrays.copyOfRange(last, 0, Fixtures.VOCAB);
                assertThat(Fixtures.relErr(row0, ref[toks.length - 1])).isLessThan(1e-4);
            }
        }
    }

    @Test
    void qwenSlidingWindowIsOffUnlessUsed() throws Exception {
        Fixtures.write(tmp, TinyCheckpoint.tiny(Fixtures.VOCAB).withArch("Qwen2ForCausalLM"));
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode cfg =
                (com.fasterxml.jackson.databind.node.ObjectNode) om.readTree(tmp.resolve("config.json").toFile());
        cfg.put("sliding_window", 4).put("use_sliding_window", false);
        assertThat(io.labelscope.runtime.model.ModelConfig.parse(cfg, "x").slidingWindow()).isZero();
        cfg.put("use_sliding_window", true);
        assertThat(io.labelscope.runtime.model.ModelConfig.parse(cfg, "x").slidingWindow()).isEqualTo(4);
        // Which layers use it: i >= max_window_layers, whose default (28) leaves both layers of this model full.
        assertThat(io.labelscope.runtime.model.ModelConfig.parse(cfg, "x").layerWindows()).containsExactly(0, 0);
        cfg.put("max_window_layers", 1);
        assertThat(io.labelscope.runtime.model.ModelConfig.parse(cfg, "x").layerWindows()).containsExactly(0, 4);
    }

    @Test
    void shardedEqualsUnsharded() throws Exception {
        TinyCheckpoint ck = new TinyCheckpoint(TinyCheckpoint.tiny(Fixtures.VOCAB));
        ck.write(tmp.resolve("one"), FileType.F32, 1, Fixtures.tokenizer());
        ck.write(tmp.resolve("three"), FileType.F32, 3, Fixtures.tokenizer());
        int[] toks = randomTokens(3, 16);
        try (LlmModel a = LlmModel.load(tmp.resolve("one"), RuntimeConfig.cpu());
             LlmModel b = LlmModel.load(tmp.resolve("three"), RuntimeConfig.cpu())) {
            float[][] la = runtimeLogits(a, toks);
            float[][] lb = runtimeLogits(b, toks);
            for (int i = 0; i < toks.length; i++) {
                assertThat(lb[i]).containsExactly(la[i]);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"F16", "BF16"})
    void halfPrecisionFilesLoadWithinTolerance(String type) throws Exception {
        FileType ft = FileType.valueOf(type);
        TinyCheckpoint full = new TinyCheckpoint(TinyCheckpoint.tiny(Fixtures.VOCAB));
        full.write(tmp.resolve("f32"), FileType.F32, 1, Fixtures.tokenizer());
        TinyCheckpoint rounded = new TinyCheckpoint(TinyCheckpoint.tiny(Fixtures.VOCAB)).roundTo(ft);
        rounded.write(tmp.resolve("half"), ft, 2, Fixtures.tokenizer());
        int[] toks = randomTokens(4, 16);
        try (LlmModel f32 = LlmModel.load(tmp.resolve("f32"), RuntimeConfig.cpu());
             LlmModel half = LlmModel.load(tmp.resolve("half"), RuntimeConfig.cpu())) {
            // Exactly the stored values, widened: matches the reference on rounded weights at 1e-4.
            assertMatchesReference(half, rounded, toks, 1e-4);
            // And close to the unrounded model.
            float[][] a = runtimeLogits(f32, toks);
            float[][] b = runtimeLogits(half, toks);
            double tol = ft == FileType.F16 ? 5e-3 : 5e-2;
            for (int i = 0; i < toks.length; i++) {
                double[] ad = new double[a[i].length];
                for (int j = 0; j < ad.length; j++) {
                    ad[j] = a[i][j];
                }
                assertThat(Fixtures.relErr(b[i], ad)).isLessThan(tol);
            }
        }
    }

    @Test
    void f16ComputeStaysCloseToF32() throws Exception {
        TinyCheckpoint ck = Fixtures.write(tmp, TinyCheckpoint.tiny(Fixtures.VOCAB));
        int[] toks = randomTokens(5, 12);
        try (LlmModel m = LlmModel.load(tmp, RuntimeConfig.cpu().withDtype(RuntimeConfig.ComputeType.F16))) {
            assertMatchesReference(m, ck, toks, 2e-2);
        }
    }
}
