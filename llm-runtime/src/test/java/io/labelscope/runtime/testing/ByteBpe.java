package io.labelscope.runtime.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    private final Map<String, Integer> vocab = new LinkedHashMap<>();
    private final List<String[]> merges = new ArrayList<>();
    private final Map<String, Integer> rank = new HashMap<>();
    private static final char[] BYTE_CHARS = byteChars();

    public ByteBpe(List<String> words) {
        vocab.put("<s>", BOS);
        vocab.put("</s>", EOS);
        vocab.put("<pad>", PAD);
        for (int b = 0; b < 256; b++) {
            vocab.put(String.valueOf(BYTE_CHARS[b]), vocab.size());
        }
        for (String w : words) {
            String sym = toSymbols(w);
            List<String> pieces = apply(sym);
            while (pieces.size() > 1) {
                String a = pieces.get(0);
                String b = pieces.get(1);
                rank.put(a + " " + b, merges.size());
                merges.add(new String[] {a, b});
                vocab.putIfAbsent(a + b, vocab.size());
                pieces = apply(sym);
            }
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

    /** Reference BPE on one pre-token's symbols: merge the lowest-ranked adjacent pair until none applies. */
    public List<String> apply(String symbols) {
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

    /** Ids of one pre-token (e.g. {@code " joy"}). */
    public int[] ids(String pretoken) {
        return apply(toSymbols(pretoken)).stream().mapToInt(vocab::get).toArray();
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
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<s>", "</s>", "<pad>"};
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
        ObjectNode dec = root.putObject("decoder");
        dec.put("type", "ByteLevel");
        dec.put("add_prefix_space", true);
        dec.put("trim_offsets", true);
        dec.put("use_regex", true);
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        for (String[] mg : merges) {
            m.add(mg[0] + " " + mg[1]);
        }
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
