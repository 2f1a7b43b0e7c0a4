package io.labelscope.runtime.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelscope.runtime.model.HalfFloats;
import io.labelscope.runtime.model.ModelConfig;
import io.labelscope.runtime.model.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A randomly initialised Llama-family checkpoint written by the tests: config.json, safetensors (F32, F16 or BF16,
 * optionally sharded) and a byte-level BPE tokenizer.json. {@link #weights} holds the values exactly as stored in
 * the file (after F16/BF16 rounding), which the plain-Java reference uses.
 */
public final class TinyCheckpoint {

    /** Architecture and sizes. ropeScalingFactor > 0 selects Llama-3 rope scaling. */
    public record Spec(String arch, int vocab, int hidden, int inter, int layers, int heads, int kvHeads,
                       int headDim, double ropeTheta, boolean tie, double ropeScalingFactor, double eps, long seed,
                       double std) {
        public boolean bias() {
            return arch.equals("Qwen2ForCausalLM");
        }

        public Spec withArch(String a) {
            return new Spec(a, vocab, hidden, inter, layers, heads, kvHeads, headDim, ropeTheta, tie,
                    ropeScalingFactor, eps, seed, std);
        }

        public Spec withRopeScaling(double f) {
            return new Spec(arch, vocab, hidden, inter, layers, heads, kvHeads, headDim, ropeTheta, tie, f, eps,
                    seed, std);
        }

        public Spec withTie(boolean t) {
            return new Spec(arch, vocab, hidden, inter, layers, heads, kvHeads, headDim, ropeTheta, t,
                    ropeScalingFactor, eps, seed, std);
        }

        public Spec withSeed(long s) {
            return new Spec(arch, vocab, hidden, inter, layers, heads, kvHeads, headDim, ropeTheta, tie,
                    ropeScalingFactor, eps, s, std);
        }
    }

    public enum FileType { F32, F16, BF16 }

    /** Default tiny spec: 2 layers, 4 query heads over 2 KV heads (GQA), head_dim 8. */
    public static Spec tiny(int vocab) {
        return new Spec("LlamaForCausalLM", vocab, 32, 64, 2, 4, 2, 8, 10000.0, false, 0, 1e-5, 42, 0.15);
    }

    public final Spec spec;
    public final Map<String, float[]> weights = new LinkedHashMap<>();
    public final Map<String, long[]> shapes = new LinkedHashMap<>();
    /** config.json as written; given as is by {@link #fromConfig}, else built from {@link #spec}. */
    private final Map<String, Object> config;
    /** generation_config.json, written when not null. */
    private final Map<String, Object> generationConfig;

    public TinyCheckpoint(Spec s) {
        this(s, null, null);
    }

    /**
     * Random weights for a config.json given field by field (e.g. a real model's, shrunk), written unchanged; the
     * sizes, bias and tying are read from it.
     */
    public static TinyCheckpoint fromConfig(Map<String, Object> config, Map<String, Object> generationConfig,
                                            long seed, double std) {
        com.fasterxml.jackson.databind.JsonNode n = new ObjectMapper().valueToTree(config);
        int hidden = n.get("hidden_size").asInt();
        int heads = n.get("num_attention_heads").asInt();
        Spec s = new Spec(n.get("architectures").get(0).asText(), n.get("vocab_size").asInt(), hidden,
                n.get("intermediate_size").asInt(), n.get("num_hidden_layers").asInt(), heads,
                n.get("num_key_value_heads").asInt(),
                n.hasNonNull("head_dim") ? n.get("head_dim").asInt() : hidden / heads,
                n.get("rope_theta").asDouble(), n.path("tie_word_embeddings").asBoolean(false), 0,
                n.get("rms_norm_eps").asDouble(), seed, std);
        return new TinyCheckpoint(s, new LinkedHashMap<>(config),
                generationConfig == null ? null : new LinkedHashMap<>(generationConfig));
    }

    private TinyCheckpoint(Spec s, Map<String, Object> config, Map<String, Object> generationConfig) {
        this.spec = s;
        this.config = config;
        this.generationConfig = generationConfig;
        boolean bias = config == null ? s.bias() : hasBiases(config);
        Random r = new Random(s.seed());
        int q = s.heads() * s.headDim();
        int kv = s.kvHeads() * s.headDim();
        add("model.embed_tokens.weight", r, s.std() * 5, s.vocab(), s.hidden());
        for (int i = 0; i < s.layers(); i++) {
            String p = "model.layers." + i + ".";
            norm(p + "input_layernorm.weight", r, s.hidden());
            add(p + "self_attn.q_proj.weight", r, s.std() * 2, q, s.hidden());
            add(p + "self_attn.k_proj.weight", r, s.std() * 2, kv, s.hidden());
            add(p + "self_attn.v_proj.weight", r, s.std(), kv, s.hidden());
            if (bias) {
                add(p + "self_attn.q_proj.bias", r, 0.5, q);
                add(p + "self_attn.k_proj.bias", r, 0.5, kv);
                add(p + "self_attn.v_proj.bias", r, 0.5, kv);
            }
            add(p + "self_attn.o_proj.weight", r, s.std(), s.hidden(), q);
            norm(p + "post_attention_layernorm.weight", r, s.hidden());
            add(p + "mlp.gate_proj.weight", r, s.std(), s.inter(), s.hidden());
            add(p + "mlp.up_proj.weight", r, s.std(), s.inter(), s.hidden());
            add(p + "mlp.down_proj.weight", r, s.std(), s.hidden(), s.inter());
        }
        norm("model.norm.weight", r, s.hidden());
        if (!s.tie()) {
            add("lm_head.weight", r, s.std() * 2, s.vocab(), s.hidden());
        }
    }

    private void add(String name, Random r, double std, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] a = new float[(int) n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (r.nextGaussian() * std);
        }
        weights.put(name, a);
        shapes.put(name, shape);
    }

    private void norm(String name, Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (1.0 + 0.2 * r.nextGaussian());
        }
        weights.put(name, a);
        shapes.put(name, new long[] {n});
    }

    /** Rounds every weight to what the file type can hold, so the reference sees the stored values. */
    public TinyCheckpoint roundTo(FileType t) {
        for (float[] a : weights.values()) {
            for (int i = 0; i < a.length; i++) {
                a[i] = switch (t) {
                    case F32 -> a[i];
                    case F16 -> HalfFloats.toFloat(HalfFloats.fromFloat(a[i]));
                    case BF16 -> HalfFloats.bf16ToFloat((short) HalfFloats.bf16(a[i]));
                };
            }
        }
        return this;
    }

    /** Qwen2 always has q/k/v biases, Llama-family models when {@code attention_bias} says so. */
    public static boolean hasBiases(Map<String, Object> config) {
        Object arch = ((List<?>) config.get("architectures")).get(0);
        return arch.equals("Qwen2ForCausalLM") || Boolean.TRUE.equals(config.get("attention_bias"));
    }

    /** config.json: the one given to {@link #fromConfig}, else {@link #spec}'s through {@code ModelConfig.toJson}. */
    public Map<String, Object> configJson() {
        if (config != null) {
            return config;
        }
        ModelConfig.RopeScaling rope = spec.ropeScalingFactor() > 0
                ? new ModelConfig.RopeScaling("llama3", spec.ropeScalingFactor(), 1.0, 4.0, 16) : null;
        return new ModelConfig(spec.arch(), spec.vocab(), spec.hidden(), spec.inter(), spec.layers(), spec.heads(),
                spec.kvHeads(), spec.headDim(), spec.eps(), spec.ropeTheta(), rope, 2048, spec.tie(), spec.bias(), 0,
                ByteBpe.BOS, List.of(ByteBpe.EOS)).toJson("float32");
    }

    /** Writes config.json, the weights (in {@code shards} files) and the tokenizer. */
    public void write(Path dir, FileType type, int shards, ByteBpe tokenizer) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper om = new ObjectMapper();
        om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), configJson());
        if (generationConfig != null) {
            om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("generation_config.json").toFile(),
                    generationConfig);
        }
        tokenizer.write(dir.resolve("tokenizer.json"));
        List<String> names = new ArrayList<>(weights.keySet());
        if (shards <= 1) {
            writeSafetensors(dir.resolve("model.safetensors"), names, type);
            return;
        }
        ObjectNode index = om.createObjectNode();
        long totalBytes = 0;
        for (float[] a : weights.values()) {
            totalBytes += (long) a.length * (type == FileType.F32 ? 4 : 2);
        }
        index.putObject("metadata").put("total_size", totalBytes);
        ObjectNode map = index.putObject("weight_map");
        int per = (names.size() + shards - 1) / shards;
        for (int s = 0; s < shards; s++) {
            List<String> part = names.subList(Math.min(names.size(), s * per), Math.min(names.size(), (s + 1) * per));
            String file = String.format("model-%05d-of-%05d.safetensors", s + 1, shards);
            writeSafetensors(dir.resolve(file), part, type);
            part.forEach(n -> map.put(n, file));
        }
        om.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("model.safetensors.index.json").toFile(), index);
    }

    public void writeSafetensors(Path file, List<String> names, FileType type) throws IOException {
        Map<String, long[]> part = new LinkedHashMap<>();
        names.forEach(n -> part.put(n, shapes.get(n)));
        SafeTensors.write(file, part, SafeTensors.DType.valueOf(type.name()), name -> {
            float[] a = weights.get(name);
            return i -> a[(int) i];
        });
    }
}
