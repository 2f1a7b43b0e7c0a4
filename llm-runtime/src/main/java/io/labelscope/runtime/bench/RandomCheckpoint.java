package io.labelscope.runtime.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
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

/**
 * Writes a randomly initialised Llama checkpoint (F32 or BF16 safetensors, config.json) with a byte-level BPE tokenizer of
 * the 256 byte symbols plus {@code <s>}, {@code </s>}, {@code <pad>} and no merges: enough to run the runtime end to
 * end at a realistic parameter count without any downloaded weights.
 */
public final class RandomCheckpoint {
    private RandomCheckpoint() {}

    /** Sizes of the benchmark model. */
    public record Sizes(int vocab, int hidden, int inter, int layers, int heads, int kvHeads, boolean tie) {
        public long parameters() {
            long d = hidden / heads;
            long attn = (long) hidden * heads * d * 2 + (long) hidden * kvHeads * d * 2;
            long mlp = 3L * hidden * inter;
            long emb = (long) vocab * hidden * (tie ? 1 : 2);
            return emb + layers * (attn + mlp + 2L * hidden) + hidden;
        }
    }

    /**
     * The tensors of a Hugging Face Llama checkpoint with these sizes, in file order: the names and shapes the
     * runtime's {@code CausalLm} reads ({@code lm_head.weight} only without tied embeddings).
     */
    public static Map<String, long[]> llamaShapes(Sizes s) {
        int d = s.hidden() / s.heads();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[] {s.vocab(), s.hidden()});
        for (int i = 0; i < s.layers(); i++) {
            String p = "model.layers." + i + ".";
            shapes.put(p + "input_layernorm.weight", new long[] {s.hidden()});
            shapes.put(p + "self_attn.q_proj.weight", new long[] {(long) s.heads() * d, s.hidden()});
            shapes.put(p + "self_attn.k_proj.weight", new long[] {(long) s.kvHeads() * d, s.hidden()});
            shapes.put(p + "self_attn.v_proj.weight", new long[] {(long) s.kvHeads() * d, s.hidden()});
            shapes.put(p + "self_attn.o_proj.weight", new long[] {s.hidden(), (long) s.heads() * d});
            shapes.put(p + "post_attention_layernorm.weight", new long[] {s.hidden()});
            shapes.put(p + "mlp.gate_proj.weight", new long[] {s.inter(), s.hidden()});
            shapes.put(p + "mlp.up_proj.weight", new long[] {s.inter(), s.hidden()});
            shapes.put(p + "mlp.down_proj.weight", new long[] {s.hidden(), s.inter()});
        }
        shapes.put("model.norm.weight", new long[] {s.hidden()});
        if (!s.tie()) {
            shapes.put("lm_head.weight", new long[] {s.vocab(), s.hidden()});
        }
        return shapes;
    }

    /** Safetensors element types this writer can store. */
    public enum FileType { F32, BF16 }

    public static void write(Path dir, Sizes s, long seed) throws IOException {
        write(dir, s, seed, FileType.F32);
    }

    public static void write(Path dir, Sizes s, long seed, FileType type) throws IOException {
        int bytes = type == FileType.F32 ? 4 : 2;
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
        c.put("hidden_act", "silu");
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("max_position_embeddings", 2048);
        c.put("tie_word_embeddings", s.tie());
        c.put("bos_token_id", 0);
        c.put("eos_token_id", 1);
        ObjectMapper om = new ObjectMapper();
        om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);
        writeTokenizer(dir.resolve("tokenizer.json"));
        Map<String, long[]> shapes = llamaShapes(s);
        Map<String, Object> header = new LinkedHashMap<>();
        long off = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long n = 1;
            for (long x : e.getValue()) {
                n *= x;
            }
            header.put(e.getKey(), Map.of("dtype", type.name(), "shape", e.getValue(),
                    "data_offsets", List.of(off, off + bytes * n)));
            off += bytes * n;
        }
        byte[] h = om.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        SplittableRandom r = new SplittableRandom(seed);
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(dir.resolve("model.safetensors")), 1 << 20)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            out.write(h);
            for (Map.Entry<String, long[]> e : shapes.entrySet()) {
                long[] sh = e.getValue();
                boolean norm = sh.length == 1;
                double std = norm ? 0.1 : 1.0 / Math.sqrt(sh[1]);
                long n = 1;
                for (long x : sh) {
                    n *= x;
                }
                ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < n; i++) {
                    float v = (float) ((norm ? 1.0 : 0.0) + std * (r.nextDouble() * 2 - 1) * 1.7320508);
                    if (type == FileType.F32) {
                        b.putFloat(v);
                    } else {
                        b.putShort((short) io.labelscope.runtime.model.HalfFloats.bf16(v));
                    }
                    if (!b.hasRemaining()) {
                        out.write(b.array(), 0, b.position());
                        b.clear();
                    }
                }
                out.write(b.array(), 0, b.position());
            }
        }
    }

    static void writeTokenizer(Path file) throws IOException {
        char[] map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean direct = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = direct ? (char) b : (char) (256 + n++);
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        vocab.put("<s>", 0);
        vocab.put("</s>", 1);
        vocab.put("<pad>", 2);
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(map[b]), 3 + b);
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        List<Map<String, Object>> added = new java.util.ArrayList<>();
        String[] sp = {"<s>", "</s>", "<pad>"};
        for (int i = 0; i < 3; i++) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("id", i);
            a.put("content", sp[i]);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
            added.add(a);
        }
        root.put("added_tokens", added);
        root.put("normalizer", null);
        root.put("pre_tokenizer", Map.of("type", "ByteLevel", "add_prefix_space", false, "trim_offsets", true, "use_regex", true));
        root.put("post_processor", null);
        root.put("decoder", Map.of("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", true, "use_regex", true));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("vocab", vocab);
        model.put("merges", List.of());
        root.put("model", model);
        new ObjectMapper().writeValue(file.toFile(), root);
    }
}
