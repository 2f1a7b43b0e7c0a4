package io.labelscope.runtime.bench;

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

    public static void write(Path dir, Sizes s, long seed) throws IOException {
        write(dir, s, seed, SafeTensors.DType.F32);
    }

    /** config.json, tokenizer.json and one model.safetensors of {@code type}, values uniform with std 1/sqrt(in). */
    public static void write(Path dir, Sizes s, long seed, SafeTensors.DType type) throws IOException {
        Files.createDirectories(dir);
        ModelConfig cfg = new ModelConfig("LlamaForCausalLM", s.vocab(), s.hidden(), s.inter(), s.layers(), s.heads(),
                s.kvHeads(), s.hidden() / s.heads(), 1e-5, 10000.0, null, 2048, s.tie(), false, 0, 0, List.of(1));
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(),
                cfg.toJson(type == SafeTensors.DType.F32 ? "float32" : "bfloat16"));
        writeTokenizer(dir.resolve("tokenizer.json"));
        Map<String, long[]> shapes = llamaShapes(s);
        SplittableRandom r = new SplittableRandom(seed);
        SafeTensors.write(dir.resolve("model.safetensors"), shapes, type, name -> {
            long[] sh = shapes.get(name);
            boolean norm = sh.length == 1;
            double std = norm ? 0.1 : 1.0 / Math.sqrt(sh[1]);
            return i -> (float) ((norm ? 1.0 : 0.0) + std * (r.nextDouble() * 2 - 1) * 1.7320508);
        });
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
