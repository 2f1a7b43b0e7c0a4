package io.labelscope.runtime.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a SentencePiece-structured BPE {@code tokenizer.json} (the Llama 2 / Mistral layout): spaces become
 * {@code ▁}, a {@code ▁} is put before the text, characters outside the vocabulary fall back to byte tokens
 * {@code <0xNN>}. Ids 0..2 are {@code <s>}, {@code </s>}, {@code <unk>} (BOS and EOS as in {@link ByteBpe}, so the
 * same config.json fits), then the 256 byte tokens, then {@code ▁} and the printable ASCII characters, then one
 * token per merge. Merges make each listed word (in SentencePiece form, e.g. {@code ▁Input} or {@code Input}) one
 * token; anything else splits into pieces.
 */
public final class SentencePieceBpe {

    /** Where the {@code ▁} before the text comes from: the three layouts Hugging Face checkpoints ship. */
    public enum Layout {
        /** Llama 2 (original), Mistral v0.1: normalizer Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer. */
        PREPEND_NORMALIZER,
        /** Mistral v0.3, newer Llama 2 conversions: Metaspace pre-tokenizer, prepend_scheme "first", split false. */
        METASPACE_FIRST,
        /** The legacy Metaspace (add_prefix_space = true): prepend_scheme "always", split on every ▁. */
        METASPACE_ALWAYS
    }

    public static final int BOS = 0;
    public static final int EOS = 1;
    public static final int UNK = 2;
    public static final String SPACE = "\u2581";

    private final Layout layout;
    private final Map<String, Integer> vocab = new LinkedHashMap<>();
    private final List<String[]> merges = new ArrayList<>();
    private final Map<String, Integer> rank = new HashMap<>();

    public SentencePieceBpe(Layout layout, List<String> words) {
        this.layout = layout;
        vocab.put("<s>", BOS);
        vocab.put("</s>", EOS);
        vocab.put("<unk>", UNK);
        for (int b = 0; b < 256; b++) {
            vocab.put(String.format("<0x%02X>", b), vocab.size());
        }
        vocab.put(SPACE, vocab.size());
        for (char c = '!'; c <= '~'; c++) {
            vocab.put(String.valueOf(c), vocab.size());
        }
        for (String w : words) {
            List<String> pieces = apply(w);
            while (pieces.size() > 1) {
                String a = pieces.get(0);
                String b = pieces.get(1);
                rank.put(a + " " + b, merges.size());
                merges.add(new String[] {a, b});
                vocab.putIfAbsent(a + b, vocab.size());
                pieces = apply(w);
            }
        }
    }

    public int size() {
        return vocab.size();
    }

    /** Id of a vocabulary entry (e.g. {@code "▁Input"}), or null. */
    public Integer id(String piece) {
        return vocab.get(piece);
    }

    private List<String> apply(String symbols) {
        List<String> p = new ArrayList<>();
        symbols.codePoints().forEach(c -> p.add(new String(Character.toChars(c))));
        while (true) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < p.size(); i++) {
                Integer r = rank.get(p.get(i) + " " + p.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                return p;
            }
            p.set(best, p.get(best) + p.remove(best + 1));
        }
    }

    public void write(Path file) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<s>", "</s>", "<unk>"};
        for (int i = 0; i < specials.length; i++) {
            ObjectNode a = added.addObject();
            a.put("id", i);
            a.put("content", specials[i]);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        ObjectNode decoder;
        switch (layout) {
            case PREPEND_NORMALIZER -> {
                ObjectNode norm = root.putObject("normalizer");
                norm.put("type", "Sequence");
                ArrayNode ns = norm.putArray("normalizers");
                ns.addObject().put("type", "Prepend").put("prepend", SPACE);
                ObjectNode rep = ns.addObject().put("type", "Replace");
                rep.putObject("pattern").put("String", " ");
                rep.put("content", SPACE);
                root.putNull("pre_tokenizer");
                decoder = om.createObjectNode().put("type", "Sequence");
                ArrayNode ds = decoder.putArray("decoders");
                ObjectNode r = ds.addObject().put("type", "Replace");
                r.putObject("pattern").put("String", SPACE);
                r.put("content", " ");
                ds.addObject().put("type", "ByteFallback");
                ds.addObject().put("type", "Fuse");
                ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
            }
            case METASPACE_FIRST, METASPACE_ALWAYS -> {
                root.putNull("normalizer");
                boolean first = layout == Layout.METASPACE_FIRST;
                ObjectNode pre = root.putObject("pre_tokenizer");
                pre.put("type", "Metaspace");
                pre.put("replacement", SPACE);
                pre.put("prepend_scheme", first ? "first" : "always");
                pre.put("split", !first);
                decoder = om.createObjectNode().put("type", "Sequence");
                ArrayNode ds = decoder.putArray("decoders");
                ds.addObject().put("type", "ByteFallback");
                ds.addObject().put("type", "Metaspace").put("replacement", SPACE)
                        .put("prepend_scheme", first ? "first" : "always").put("split", !first);
            }
            default -> throw new IllegalStateException(layout.toString());
        }
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode st = post.putObject("special_tokens").putObject("<s>");
        st.put("id", "<s>");
        st.putArray("ids").add(BOS);
        st.putArray("tokens").add("<s>");
        root.set("decoder", decoder);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", "<unk>");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        for (String[] mg : merges) {
            m.add(mg[0] + " " + mg[1]);
        }
        om.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }
}
