package io.labelscope.runtime.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.runtime.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a Hugging Face {@code config.json} a decoder-only Llama-family model needs.
 *
 * @param architecture LlamaForCausalLM, Qwen2ForCausalLM or MistralForCausalLM
 * @param attentionBias q/k/v projections carry biases (always for Qwen2, {@code attention_bias} for Llama)
 * @param slidingWindow attention window in tokens, 0 = none
 * @param ropeScaling null when absent
 */
public record ModelConfig(
        String architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        int slidingWindow,
        int bosTokenId,
        List<Integer> eosTokenIds) {

    public static final List<String> SUPPORTED =
            List.of("LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM");

    /**
     * @param type "llama3", "linear" or "default"
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositionEmbeddings) {}

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    public int kvGroups() {
        return numHeads / numKvHeads;
    }

    /** Reads and validates {@code dir/config.json}. */
    public static ModelConfig load(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException("missing file: " + file);
        }
        JsonNode n;
        try {
            n = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelLoadException("cannot parse " + file + ": " + e.getMessage(), e);
        }
        return parse(n, file.toString());
    }

    /** Parses a config.json tree; {@code where} names the source in error messages. */
    public static ModelConfig parse(JsonNode n, String where) {
        JsonNode archs = n.get("architectures");
        if (archs == null || !archs.isArray() || archs.isEmpty()) {
            throw new ModelLoadException(where + ": missing key 'architectures'");
        }
        String arch = archs.get(0).asText();
        if (!SUPPORTED.contains(arch)) {
            throw new ModelLoadException(where + ": unknown architecture '" + arch + "' (supported: " + SUPPORTED + ")");
        }
        int hidden = reqInt(n, "hidden_size", where);
        int heads = reqInt(n, "num_attention_heads", where);
        int kvHeads = n.has("num_key_value_heads") && !n.get("num_key_value_heads").isNull()
                ? n.get("num_key_value_heads").asInt() : heads;
        int headDim = n.has("head_dim") && !n.get("head_dim").isNull() ? n.get("head_dim").asInt() : hidden / heads;
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new ModelLoadException(where + ": num_attention_heads=" + heads
                    + " is not a multiple of num_key_value_heads=" + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new ModelLoadException(where + ": head_dim " + headDim + " must be even for rotary embeddings");
        }
        String act = n.path("hidden_act").asText("silu");
        if (!act.equals("silu")) {
            throw new ModelLoadException(where + ": unsupported hidden_act '" + act + "' (only silu)");
        }
        RopeScaling scaling = null;
        JsonNode rs = n.get("rope_scaling");
        if (rs != null && !rs.isNull()) {
            String type = rs.has("rope_type") ? rs.get("rope_type").asText() : rs.path("type").asText("default");
            switch (type) {
                case "default" -> scaling = null;
                case "linear" -> scaling = new RopeScaling("linear", reqDouble(rs, "factor", where + " rope_scaling"), 0, 0, 0);
                case "llama3" -> scaling = new RopeScaling("llama3",
                        reqDouble(rs, "factor", where + " rope_scaling"),
                        reqDouble(rs, "low_freq_factor", where + " rope_scaling"),
                        reqDouble(rs, "high_freq_factor", where + " rope_scaling"),
                        reqInt(rs, "original_max_position_embeddings", where + " rope_scaling"));
                default -> throw new ModelLoadException(where + ": unsupported rope_scaling type '" + type
                        + "' (supported: default, linear, llama3)");
            }
        }
        boolean qwen = arch.equals("Qwen2ForCausalLM");
        boolean bias = qwen || n.path("attention_bias").asBoolean(false);
        if (n.path("mlp_bias").asBoolean(false)) {
            throw new ModelLoadException(where + ": mlp_bias=true is not supported");
        }
        int window = 0;
        JsonNode sw = n.get("sliding_window");
        if (sw != null && !sw.isNull() && (!qwen || n.path("use_sliding_window").asBoolean(false))) {
            window = sw.asInt();
        }
        List<Integer> eos = new ArrayList<>();
        JsonNode e = n.get("eos_token_id");
        if (e != null && e.isArray()) {
            e.forEach(x -> eos.add(x.asInt()));
        } else if (e != null && !e.isNull()) {
            eos.add(e.asInt());
        }
        int bos = n.has("bos_token_id") && !n.get("bos_token_id").isNull() ? n.get("bos_token_id").asInt() : -1;
        return new ModelConfig(arch, reqInt(n, "vocab_size", where), hidden, reqInt(n, "intermediate_size", where),
                reqInt(n, "num_hidden_layers", where), heads, kvHeads, headDim,
                n.path("rms_norm_eps").asDouble(1e-6), n.path("rope_theta").asDouble(10000.0), scaling,
                n.path("max_position_embeddings").asInt(4096), n.path("tie_word_embeddings").asBoolean(false),
                bias, window, bos, eos);
    }

    private static int reqInt(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull() || !v.isNumber()) {
            throw new ModelLoadException(where + ": missing or non-numeric key '" + key + "'");
        }
        return v.asInt();
    }

    private static double reqDouble(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull() || !v.isNumber()) {
            throw new ModelLoadException(where + ": missing or non-numeric key '" + key + "'");
        }
        return v.asDouble();
    }

    /** Rotary inverse frequencies for one head (length headDim/2), with the configured scaling applied. */
    public double[] inverseFrequencies() {
        int half = headDim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            inv[i] = 1.0 / Math.pow(ropeTheta, (2.0 * i) / headDim);
        }
        if (ropeScaling == null) {
            return inv;
        }
        RopeScaling s = ropeScaling;
        if (s.type().equals("linear")) {
            for (int i = 0; i < half; i++) {
                inv[i] /= s.factor();
            }
            return inv;
        }
        double lowWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        for (int i = 0; i < half; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen < highWavelen) {
                continue;
            }
            if (wavelen > lowWavelen) {
                inv[i] /= s.factor();
            } else {
                double smooth = (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                inv[i] = (1 - smooth) * inv[i] / s.factor() + smooth * inv[i];
            }
        }
        return inv;
    }
}
