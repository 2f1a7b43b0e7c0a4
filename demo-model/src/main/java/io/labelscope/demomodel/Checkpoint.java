package io.labelscope.demomodel;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.runtime.model.ModelConfig;
import io.labelscope.runtime.model.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Sizes, initial weights and the Hugging Face files (config.json, model.safetensors) of a demo model. */
public final class Checkpoint {

    /** A Llama with tied embeddings. */
    public record Spec(int vocab, int hidden, int inter, int layers, int heads, int kvHeads, int maxPositions) {
        public ModelConfig config() {
            return new ModelConfig("LlamaForCausalLM", vocab, hidden, inter, layers, heads, kvHeads, hidden / heads,
                    1e-5, 10000.0, null, maxPositions, true, false, 0, ByteLevelBpe.BOS, List.of(ByteLevelBpe.EOS));
        }

        public long parameters() {
            long d = hidden / heads;
            long attn = 2L * hidden * heads * d + 2L * hidden * kvHeads * d;
            return (long) vocab * hidden + layers * (attn + 3L * hidden * inter + 2L * hidden) + hidden;
        }
    }

    private Checkpoint() {}

    /** Tensor names and shapes in checkpoint order. */
    public static Map<String, long[]> shapes(Spec s) {
        // Tied embeddings: the same layout the runtime's random checkpoints use, without lm_head.
        return io.labelscope.runtime.bench.RandomCheckpoint.llamaShapes(new io.labelscope.runtime.bench.RandomCheckpoint
                .Sizes(s.vocab(), s.hidden(), s.inter(), s.layers(), s.heads(), s.kvHeads(), true));
    }

    /**
     * Seeded initial values: norms 1; matrices N(0, 0.02²) by a Box–Muller of a SplittableRandom, the residual
     * outputs (o_proj, down_proj) scaled by 1/sqrt(2·layers) (GPT-2's scheme).
     */
    public static Map<String, float[]> init(Spec s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes(s).entrySet()) {
            long[] sh = e.getValue();
            int n = (int) (sh.length == 1 ? sh[0] : sh[0] * sh[1]);
            float[] v = new float[n];
            if (sh.length == 1) {
                java.util.Arrays.fill(v, 1f);
            } else {
                double std = 0.02;
                if (e.getKey().endsWith("o_proj.weight") || e.getKey().endsWith("down_proj.weight")) {
                    std /= Math.sqrt(2.0 * s.layers());
                }
                for (int i = 0; i < n; i++) {
                    double u1 = 1.0 - r.nextDouble();
                    double u2 = r.nextDouble();
                    v[i] = (float) (std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
                }
            }
            out.put(e.getKey(), v);
        }
        return out;
    }

    /** Writes config.json and model.safetensors (F32) for the given weights. */
    public static void write(Path dir, Spec s, Map<String, NDArray> weights) throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> c = s.config().toJson("float32");
        c.put("pad_token_id", ByteLevelBpe.PAD);
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);
        SafeTensors.write(dir.resolve("model.safetensors"), shapes(s), SafeTensors.DType.F32, name -> {
            float[] v = weights.get(name).toFloatArray();
            return i -> v[(int) i];
        });
    }
}
