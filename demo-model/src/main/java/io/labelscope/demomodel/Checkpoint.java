package io.labelscope.demomodel;

import ai.djl.ndarray.NDArray;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.runtime.model.ModelConfig;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("vocab_size", s.vocab());
        c.put("hidden_size", s.hidden());
        c.put("intermediate_size", s.inter());
        c.put("num_hidden_layers", s.layers());
        c.put("num_attention_heads", s.heads());
        c.put("num_key_value_heads", s.kvHeads());
        c.put("head_dim", s.hidden() / s.heads());
        c.put("hidden_act", "silu");
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("max_position_embeddings", s.maxPositions());
        c.put("tie_word_embeddings", true);
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("bos_token_id", ByteLevelBpe.BOS);
        c.put("eos_token_id", ByteLevelBpe.EOS);
        c.put("pad_token_id", ByteLevelBpe.PAD);
        c.put("torch_dtype", "float32");
        ObjectMapper om = new ObjectMapper();
        om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);

        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        Map<String, long[]> shapes = shapes(s);
        long off = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = 1;
            for (long x : e.getValue()) {
                n *= x;
            }
            header.put(e.getKey(), Map.of("dtype", "F32", "shape", e.getValue(), "data_offsets", List.of(off, off + 4 * n)));
            off += 4 * n;
        }
        byte[] h = om.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int pad = (8 - h.length % 8) % 8;
        byte[] hp = java.util.Arrays.copyOf(h, h.length + pad);
        for (int i = h.length; i < hp.length; i++) {
            hp[i] = ' ';
        }
        Path tmp = dir.resolve("model.safetensors.tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hp.length).array());
            out.write(hp);
            for (String name : shapes.keySet()) {
                float[] v = weights.get(name).toFloatArray();
                ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(v);
                out.write(b.array());
            }
        }
        Files.move(tmp, dir.resolve("model.safetensors"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
