package io.labelscope.runtime;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A checkpoint's {@code tokenizer.json} without the model: what label spaces and prompts need (encode, offsets,
 * decode) where no weights are loaded ({@code labelscope model inspect}). {@link #of} wraps a loaded model's
 * tokenizer without owning it; {@link #load} opens one, which {@link #close} frees.
 */
public final class TextTokenizer implements AutoCloseable {
    /** The options {@link LlmModel} loads its tokenizer with: no truncation or padding, special tokens on request. */
    static final Map<String, String> OPTIONS = Map.of("addSpecialTokens", "true", "truncation", "false",
            "padding", "false");

    private final HuggingFaceTokenizer tokenizer;
    private final boolean owned;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, boolean owned) {
        this.tokenizer = tokenizer;
        this.owned = owned;
    }

    /** A loaded model's tokenizer (closing it leaves the model's tokenizer open). */
    public static TextTokenizer of(LlmModel model) {
        return model.text();
    }

    /** A view of a tokenizer someone else owns and closes. */
    static TextTokenizer wrap(HuggingFaceTokenizer tokenizer) {
        return new TextTokenizer(tokenizer, false);
    }

    /** Opens {@code dir/tokenizer.json}; a missing or unreadable file is a {@link ModelLoadException} naming it. */
    public static TextTokenizer load(Path dir) {
        Path file = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException("missing file: " + file);
        }
        try {
            return new TextTokenizer(HuggingFaceTokenizer.newInstance(file, OPTIONS), true);
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException("cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    /** Token ids of {@code text}; special tokens (e.g. BOS) added as the tokenizer's post-processor says. */
    public long[] encode(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens, false).getIds();
    }

    public Encoding encoding(String text, boolean addSpecialTokens) {
        return tokenizer.encode(text, addSpecialTokens, false);
    }

    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    /**
     * The tokenizer family, from {@code tokenizer.json}'s structure: byte-level BPE (GPT-2's regex, or a Split on
     * Llama 3 / Qwen 2's before ByteLevel), SentencePiece-style ({@code Prepend} normalizer or {@code Metaspace}
     * pre-tokenizer, with its {@code prepend_scheme}), else the model type. The family says where a {@code ▁} or a
     * byte-level space marker appears, which is what prompt tokenisation must respect.
     */
    public static String family(Path dir) {
        Path file = dir.resolve("tokenizer.json");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelLoadException("cannot parse " + file + ": " + e.getMessage(), e);
        }
        String model = root.path("model").path("type").asText("unknown");
        JsonNode pre = root.path("pre_tokenizer");
        if (hasType(pre, "ByteLevel")) {
            return "byte-level " + model + (hasType(pre, "Split") ? " (Split regex, then ByteLevel: Llama 3 / Qwen 2 "
                    + "style)" : " (ByteLevel regex: GPT-2 style)");
        }
        JsonNode meta = find(pre, "Metaspace");
        if (meta != null) {
            String scheme = meta.has("prepend_scheme") ? meta.get("prepend_scheme").asText()
                    : meta.path("add_prefix_space").asBoolean(true) ? "always" : "never";
            return "SentencePiece " + model + " (Metaspace pre-tokenizer, prepend_scheme " + scheme + ")";
        }
        if (hasType(root.path("normalizer"), "Prepend")) {
            return "SentencePiece " + model + " (Prepend normalizer)";
        }
        return model;
    }

    private static boolean hasType(JsonNode n, String type) {
        return find(n, type) != null;
    }

    /** The node of that type: {@code n} itself or a member of its {@code Sequence}. */
    private static JsonNode find(JsonNode n, String type) {
        if (n == null || !n.isObject()) {
            return null;
        }
        if (type.equals(n.path("type").asText())) {
            return n;
        }
        for (String list : new String[] {"pretokenizers", "normalizers"}) {
            for (JsonNode m : n.path(list)) {
                JsonNode f = find(m, type);
                if (f != null) {
                    return f;
                }
            }
        }
        return null;
    }

    @Override
    public void close() {
        if (owned) {
            tokenizer.close();
        }
    }
}
