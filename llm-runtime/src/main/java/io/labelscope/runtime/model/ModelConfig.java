package io.labelscope.runtime.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.runtime.ModelLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of a Hugging Face {@code config.json} a decoder-only Llama-family model needs.
 *
 * @param architecture LlamaForCausalLM, Qwen2ForCausalLM or MistralForCausalLM
 * @param attentionBias q/k/v projections carry biases (always for Qwen2, {@code attention_bias} for Llama)
 * @param slidingWindow the configured attention window in tokens, 0 = none (which layers use it: {@code layerWindows})
 * @param ropeScaling null when absent
 * @param bosTokenId from config.json, else generation_config.json; -1 = none
 * @param eosTokenIds every id that ends generation: config.json's {@code eos_token_id} (a number or a list) and
 *     generation_config.json's, in that order, without repeats (Qwen2.5-Instruct: {@code <|im_end|>} from the
 *     first, {@code <|endoftext|>} from the second)
 * @param layerWindows per decoder layer, the attention window in tokens (0 = full attention): Mistral windows every
 *     layer; Qwen2 with {@code use_sliding_window} only layers {@code i >= max_window_layers} (as transformers'
 *     Qwen2Config derives {@code layer_types}); an explicit {@code layer_types} list
 *     ({@code full_attention} / {@code sliding_attention}) wins
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
        List<Integer> eosTokenIds,
        List<Integer> layerWindows) {

    public static final List<String> SUPPORTED =
            List.of("LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM");

    /**
     * @param type "llama3", "linear" or "default"
     */
    public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                              int originalMaxPositionEmbeddings) {}

    /** transformers' Qwen2Config default for {@code max_window_layers}. */
    static final int QWEN2_DEFAULT_MAX_WINDOW_LAYERS = 28;

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        layerWindows = List.copyOf(layerWindows);
        if (layerWindows.size() != numLayers) {
            throw new IllegalArgumentException("layerWindows has " + layerWindows.size() + " entries for "
                    + numLayers + " layers");
        }
    }

    /** A config whose window, if any, applies to every layer (Mistral's rule). */
    public ModelConfig(String architecture, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                       int numHeads, int numKvHeads, int headDim, double rmsNormEps, double ropeTheta,
                       RopeScaling ropeScaling, int maxPositionEmbeddings, boolean tieWordEmbeddings,
                       boolean attentionBias, int slidingWindow, int bosTokenId, List<Integer> eosTokenIds) {
        this(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim,
                rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings, tieWordEmbeddings, attentionBias,
                slidingWindow, bosTokenId, eosTokenIds, java.util.Collections.nCopies(numLayers, slidingWindow));
    }

    /** Attention window of decoder layer {@code layer} in tokens, 0 = full attention. */
    public int windowOf(int layer) {
        return layerWindows.get(layer);
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
        ModelConfig cfg = parse(n, file.toString());
        Path gen = dir.resolve("generation_config.json");
        if (!Files.isRegularFile(gen)) {
            return cfg;
        }
        JsonNode g;
        try {
            g = new ObjectMapper().readTree(gen.toFile());
        } catch (IOException e) {
            throw new ModelLoadException("cannot parse " + gen + ": " + e.getMessage(), e);
        }
        return cfg.withGenerationConfig(g, gen.toString());
    }

    /**
     * Adds generation_config.json's stop and start tokens: its {@code eos_token_id}s join config.json's (transformers'
     * {@code generate} stops on generation_config's list; config.json's are kept too, since some checkpoints list
     * the chat end token only there); its {@code bos_token_id} is used when config.json has none.
     */
    public ModelConfig withGenerationConfig(JsonNode g, String where) {
        java.util.LinkedHashSet<Integer> eos = new java.util.LinkedHashSet<>(eosTokenIds);
        eos.addAll(tokenIds(g, "eos_token_id", where));
        int bos = bosTokenId;
        if (bos < 0) {
            List<Integer> b = tokenIds(g, "bos_token_id", where);
            bos = b.isEmpty() ? -1 : b.get(0);
        }
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                headDim, rmsNormEps, ropeTheta, ropeScaling, maxPositionEmbeddings, tieWordEmbeddings, attentionBias,
                slidingWindow, bos, new ArrayList<>(eos), layerWindows);
    }

    /** A token id key that may be absent, null, a number or a list of numbers. */
    private static List<Integer> tokenIds(JsonNode n, String key, String where) {
        List<Integer> ids = new ArrayList<>();
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return ids;
        }
        for (JsonNode x : v.isArray() ? v : List.of(v)) {
            if (!x.canConvertToInt()) {
                throw new ModelLoadException(where + ": key '" + key + "' must be a token id or a list of them, found "
                        + v);
            }
            ids.add(x.asInt());
        }
        return ids;
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
        JsonNode quant = n.get("quantization_config");
        if (quant != null && !quant.isNull()) {
            throw new ModelLoadException(where + ": quantized checkpoints are not supported (quantization_config "
                    + quant.path("quant_method").asText("present") + ")");
        }
        int layers = reqInt(n, "num_hidden_layers", where);
        int window = 0;
        JsonNode sw = n.get("sliding_window");
        if (sw != null && !sw.isNull() && (!qwen || n.path("use_sliding_window").asBoolean(false))) {
            window = sw.asInt();
        }
        List<Integer> windows = layerWindows(n, qwen, window, layers, where);
        List<Integer> eos = tokenIds(n, "eos_token_id", where);
        List<Integer> bosIds = tokenIds(n, "bos_token_id", where);
        int bos = bosIds.isEmpty() ? -1 : bosIds.get(0);
        return new ModelConfig(arch, reqInt(n, "vocab_size", where), hidden, reqInt(n, "intermediate_size", where),
                layers, heads, kvHeads, headDim,
                n.path("rms_norm_eps").asDouble(1e-6), n.path("rope_theta").asDouble(10000.0), scaling,
                n.path("max_position_embeddings").asInt(4096), n.path("tie_word_embeddings").asBoolean(false),
                bias, window, bos, eos, windows);
    }

    /**
     * Which layers use the window. An explicit {@code layer_types} decides; otherwise Qwen2 windows layers
     * {@code i >= max_window_layers} (transformers' Qwen2Config) and every other architecture all layers.
     */
    private static List<Integer> layerWindows(JsonNode n, boolean qwen, int window, int layers, String where) {
        JsonNode types = n.get("layer_types");
        List<Integer> out = new ArrayList<>(layers);
        if (types != null && !types.isNull()) {
            if (!types.isArray() || types.size() != layers) {
                throw new ModelLoadException(where + ": layer_types must list one attention type per layer ("
                        + layers + "), found " + types);
            }
            for (int i = 0; i < layers; i++) {
                String t = types.get(i).asText();
                switch (t) {
                    case "full_attention" -> out.add(0);
                    case "sliding_attention" -> {
                        if (window <= 0) {
                            throw new ModelLoadException(where + ": layer_types[" + i + "] is sliding_attention but "
                                    + "no sliding_window is in use");
                        }
                        out.add(window);
                    }
                    default -> throw new ModelLoadException(where + ": layer_types[" + i + "] '" + t
                            + "' is not supported (supported: full_attention, sliding_attention)");
                }
            }
            return out;
        }
        int firstWindowed = 0;
        if (qwen) {
            JsonNode m = n.get("max_window_layers");
            firstWindowed = m == null || m.isNull() ? QWEN2_DEFAULT_MAX_WINDOW_LAYERS : m.asInt();
        }
        for (int i = 0; i < layers; i++) {
            out.add(i >= firstWindowed ? window : 0);
        }
        return out;
    }

    /**
     * This config as Hugging Face config.json fields (the inverse of {@link #parse}: parsing the result gives this
     * config back), for the checkpoints the project writes itself. Callers may add keys (e.g. {@code pad_token_id}).
     *
     * @param torchDtype the {@code torch_dtype} to record, e.g. "float32" or "bfloat16"
     */
    public Map<String, Object> toJson(String torchDtype) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(architecture));
        c.put("model_type", switch (architecture) {
            case "Qwen2ForCausalLM" -> "qwen2";
            case "MistralForCausalLM" -> "mistral";
            default -> "llama";
        });
        c.put("vocab_size", vocabSize);
        c.put("hidden_size", hiddenSize);
        c.put("intermediate_size", intermediateSize);
        c.put("num_hidden_layers", numLayers);
        c.put("num_attention_heads", numHeads);
        c.put("num_key_value_heads", numKvHeads);
        c.put("head_dim", headDim);
        c.put("hidden_act", "silu");
        c.put("rms_norm_eps", rmsNormEps);
        c.put("rope_theta", ropeTheta);
        if (ropeScaling != null) {
            Map<String, Object> rs = new LinkedHashMap<>();
            rs.put("rope_type", ropeScaling.type());
            rs.put("factor", ropeScaling.factor());
            if (ropeScaling.type().equals("llama3")) {
                rs.put("low_freq_factor", ropeScaling.lowFreqFactor());
                rs.put("high_freq_factor", ropeScaling.highFreqFactor());
                rs.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
            c.put("rope_scaling", rs);
        }
        c.put("max_position_embeddings", maxPositionEmbeddings);
        c.put("tie_word_embeddings", tieWordEmbeddings);
        boolean qwen = architecture.equals("Qwen2ForCausalLM");
        if (!qwen) {
            c.put("attention_bias", attentionBias);
        }
        c.put("mlp_bias", false);
        if (layerWindows.stream().anyMatch(w -> w > 0)) {
            int window = layerWindows.stream().mapToInt(Integer::intValue).max().orElse(0);
            if (layerWindows.stream().anyMatch(w -> w > 0 && w != window)) {
                throw new IllegalStateException("config.json has one sliding_window; layers use " + layerWindows);
            }
            c.put("sliding_window", window);
            if (qwen) {
                c.put("use_sliding_window", true);
            }
            if (qwen || layerWindows.contains(0)) {
                c.put("layer_types", layerWindows.stream()
                        .map(w -> w > 0 ? "sliding_attention" : "full_attention").toList());
            }
        }
        if (bosTokenId >= 0) {
            c.put("bos_token_id", bosTokenId);
        }
        c.put("eos_token_id", eosTokenIds.size() == 1 ? eosTokenIds.get(0) : eosTokenIds);
        c.put("torch_dtype", torchDtype);
        return c;
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
