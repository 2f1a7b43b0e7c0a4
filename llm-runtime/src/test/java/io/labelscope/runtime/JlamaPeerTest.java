package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.TinyCheckpoint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peer check against Jlama 0.8.4 (pure-Java inference): same checkpoint, same token ids, logits of every position
 * agree to 1e-4 relative. Jlama needs Java 21+, so it runs in a child JVM; the test is skipped only when no such
 * runtime is found ({@code -Dlabelscope.java21.home}, {@code LABELSCOPE_JAVA21_HOME}, or a JDK under /usr/lib/jvm).
 */
class JlamaPeerTest {

    @TempDir
    Path tmp;

    static Optional<Path> java21() {
        return io.labelscope.runtime.bench.JlamaRunner.java21();
    }

    /** Runs the peer; returns logits [T][vocab]. */
    static float[][] jlamaLogits(Path java, Path modelDir, int[] tokens, int vocab, Path work) throws Exception {
        Path out = work.resolve("jlama-logits.bin");
        io.labelscope.runtime.bench.JlamaRunner.run(java, modelDir, tokens, 1, 0, out);
        ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        float[][] l = new float[tokens.length][vocab];
        for (int i = 0; i < tokens.length; i++) {
            for (int v = 0; v < vocab; v++) {
                l[i][v] = bb.getFloat();
            }
        }
        return l;
    }

    @Test
    void logitsAgreeWithJlamaOnTinyRandomLlama() throws Exception {
        Optional<Path> java = java21();
        Assumptions.assumeTrue(java.isPresent(), "no Java 21+ runtime for the Jlama peer");
        Path dir = tmp.resolve("model");
        // head_dim 16 keeps Jlama's vector kernels on their happy path.
        TinyCheckpoint.Spec spec = new TinyCheckpoint.Spec("LlamaForCausalLM", Fixtures.VOCAB, 64, 128, 2, 4, 2, 16,
                10000.0, false, 0, 1e-5, 21, 0.15);
        Fixtures.write(dir, spec);
        int[] tokens = ForwardPassTest.randomTokens(8, 20);
        float[][] peer = jlamaLogits(java.get(), dir, tokens, Fixtures.VOCAB, tmp);
        try (LlmModel m = LlmModel.load(dir, RuntimeConfig.cpu())) {
            assertAgree(ForwardPassTest.runtimeLogits(m, tokens), peer);
        }
    }

    static void assertAgree(float[][] ours, float[][] peer) {
        double worst = 0;
        for (int i = 0; i < ours.length; i++) {
            double[] p = new double[peer[i].length];
            for (int v = 0; v < p.length; v++) {
                p[v] = peer[i][v];
            }
            double e = Fixtures.relErr(ours[i], p);
            worst = Math.max(worst, e);
            assertThat(e).as("position %d", i).isLessThan(1e-4);
        }
        System.out.printf("jlama peer: %d positions, worst relative error %.2e%n", ours.length, worst);
    }

    /**
     * The ~110M-parameter random Llama of the benchmark. On by default (about 10 s here); skip with
     * {@code -Dlabelscope.peer.large=false}. Writes a 440 MB checkpoint to a temp dir.
     */
    @Test
    void logitsAgreeWithJlamaOn110MRandomLlama() throws Exception {
        Assumptions.assumeFalse("false".equals(System.getProperty("labelscope.peer.large")), "-Dlabelscope.peer.large=false");
        Optional<Path> java = java21();
        Assumptions.assumeTrue(java.isPresent(), "no Java 21+ runtime for the Jlama peer");
        Path dir = tmp.resolve("large");
        io.labelscope.runtime.bench.RandomCheckpoint.Sizes sizes =
                new io.labelscope.runtime.bench.RandomCheckpoint.Sizes(32000, 768, 2048, 12, 12, 12, true);
        io.labelscope.runtime.bench.RandomCheckpoint.write(dir, sizes, 7);
        int[] tokens = new int[16];
        java.util.Random r = new java.util.Random(5);
        for (int i = 1; i < tokens.length; i++) {
            tokens[i] = 3 + r.nextInt(256);
        }
        float[][] peer = jlamaLogits(java.get(), dir, tokens, sizes.vocab(), tmp);
        try (LlmModel m = LlmModel.load(dir, RuntimeConfig.cpu())) {
            assertAgree(ForwardPassTest.runtimeLogits(m, tokens), peer);
        }
    }
}
