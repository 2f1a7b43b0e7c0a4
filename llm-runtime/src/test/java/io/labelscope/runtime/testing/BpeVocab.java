package io.labelscope.runtime.testing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The vocabulary and merges of a test BPE tokenizer, and the parts of {@code tokenizer.json} every test tokenizer
 * shares (special tokens {@code <s>} = 0 and the two after it, a post-processor that puts {@code <s>} first, the BPE
 * model). {@link ByteBpe} and {@link SentencePieceBpe} differ only in their symbols and pre-tokenisation.
 */
public final class BpeVocab {
    private final Map<String, Integer> vocab = new LinkedHashMap<>();
    private final List<String[]> merges = new ArrayList<>();
    private final Map<String, Integer> rank = new HashMap<>();

    /** Adds a piece with the next id (if new). */
    public void add(String piece) {
        vocab.putIfAbsent(piece, vocab.size());
    }

    public int size() {
        return vocab.size();
    }

    public Integer id(String piece) {
        return vocab.get(piece);
    }

    /** Adds merges until {@code symbols} is one token: a listed word becomes exactly one token. */
    public void learn(String symbols) {
        List<String> pieces = apply(symbols);
        while (pieces.size() > 1) {
            String a = pieces.get(0);
            String b = pieces.get(1);
            rank.put(a + " " + b, merges.size());
            merges.add(new String[] {a, b});
            add(a + b);
            pieces = apply(symbols);
        }
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

    /** The special tokens (ids 0..n-1, {@code specials[0]} = BOS) and the post-processor that prepends BOS. */
    public static void writeSpecials(ObjectNode root, String... specials) {
        ArrayNode added = root.putArray("added_tokens");
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
        String bos = specials[0];
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode st = post.putObject("special_tokens").putObject(bos);
        st.put("id", bos);
        st.putArray("ids").add(0);
        st.putArray("tokens").add(bos);
    }

    /** The BPE model node: this vocabulary and these merges. */
    public void writeModel(ObjectNode root, String unkToken, boolean byteFallback) {
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        if (unkToken == null) {
            model.putNull("unk_token");
        } else {
            model.put("unk_token", unkToken);
        }
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", byteFallback);
        model.put("byte_fallback", byteFallback);
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        ArrayNode m = model.putArray("merges");
        for (String[] mg : merges) {
            m.add(mg[0] + " " + mg[1]);
        }
    }
}
