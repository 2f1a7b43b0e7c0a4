package io.labelscope.runtime.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

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
    private final BpeVocab vocab = new BpeVocab();

    public SentencePieceBpe(Layout layout, List<String> words) {
        this.layout = layout;
        vocab.add("<s>");
        vocab.add("</s>");
        vocab.add("<unk>");
        for (int b = 0; b < 256; b++) {
            vocab.add(String.format("<0x%02X>", b));
        }
        vocab.add(SPACE);
        for (char c = '!'; c <= '~'; c++) {
            vocab.add(String.valueOf(c));
        }
        for (String w : words) {
            vocab.learn(w);
        }
    }

    public int size() {
        return vocab.size();
    }

    /** Id of a vocabulary entry (e.g. {@code "▁Input"}), or null. */
    public Integer id(String piece) {
        return vocab.id(piece);
    }

    public void write(Path file) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        BpeVocab.writeSpecials(root, "<s>", "</s>", "<unk>");
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
        root.set("decoder", decoder);
        vocab.writeModel(root, "<unk>", true);
        om.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }
}
