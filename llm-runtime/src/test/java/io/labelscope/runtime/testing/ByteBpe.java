package io.labelscope.runtime.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a GPT-2 style byte-level BPE {@code tokenizer.json}: ids 0..2 are {@code <s>}, {@code </s>}, {@code <pad>};
 * then the 256 byte symbols; then one token per merge. Merges are chosen so that each listed word (pre-tokenised
 * form, e.g. {@code " joy"}) becomes exactly one token; every other text falls back to shorter pieces, so labels not
 * listed span several tokens.
 */
public final class ByteBpe {
    public static final int BOS = 0;
    public static final int EOS = 1;
    public static final int PAD = 2;

    private final BpeVocab vocab = new BpeVocab();
    private static final char[] BYTE_CHARS = byteChars();

    public ByteBpe(List<String> words) {
        vocab.add("<s>");
        vocab.add("</s>");
        vocab.add("<pad>");
        for (int b = 0; b < 256; b++) {
            vocab.add(String.valueOf(BYTE_CHARS[b]));
        }
        for (String w : words) {
            vocab.learn(toSymbols(w));
        }
    }

    public int size() {
        return vocab.size();
    }

    /** Byte-level symbols of a pre-token. */
    public static String toSymbols(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            sb.append(BYTE_CHARS[b & 0xff]);
        }
        return sb.toString();
    }

    /** Reference BPE on one pre-token's symbols. */
    public List<String> apply(String symbols) {
        return vocab.apply(symbols);
    }

    /** Ids of one pre-token (e.g. {@code " joy"}). */
    public int[] ids(String pretoken) {
        return apply(toSymbols(pretoken)).stream().mapToInt(vocab::id).toArray();
    }

    public void write(Path file) throws IOException {
        write(file, false);
    }

    /**
     * The Llama 3 regex: the pre-tokenizer layout of Llama 3 and Qwen 2 checkpoints (a Split on it, then ByteLevel
     * without its own regex), in place of GPT-2's ByteLevel regex.
     */
    public static final String LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
            + "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /** @param llama3Style pre-tokenise as Llama 3 / Qwen 2 do ({@link #LLAMA3_PATTERN}) instead of GPT-2's regex */
    public void write(Path file, boolean llama3Style) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        BpeVocab.writeSpecials(root, "<s>", "</s>", "<pad>");
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        if (llama3Style) {
            pre.put("type", "Sequence");
            ArrayNode ps = pre.putArray("pretokenizers");
            ObjectNode split = ps.addObject().put("type", "Split");
            split.putObject("pattern").put("Regex", LLAMA3_PATTERN);
            split.put("behavior", "Isolated");
            split.put("invert", false);
            ps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                    .put("use_regex", false);
        } else {
            pre.put("type", "ByteLevel");
            pre.put("add_prefix_space", false);
            pre.put("trim_offsets", true);
            pre.put("use_regex", true);
        }
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", true);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);
        vocab.writeModel(root, null, false);
        om.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }

    private static char[] byteChars() {
        char[] map = new char[256];
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            direct[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            direct[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            direct[b] = true;
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            map[b] = direct[b] ? (char) b : (char) (256 + n++);
        }
        return map;
    }
}
