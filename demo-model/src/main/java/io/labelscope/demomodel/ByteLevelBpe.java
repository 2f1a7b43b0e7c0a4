package io.labelscope.demomodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GPT-2 style byte-level BPE tokenizer, trained here from text and written as a standard Hugging Face
 * {@code tokenizer.json} (ByteLevel pre-tokenizer with the GPT-2 split regex, BPE model with ranked merges,
 * ByteLevel decoder, a {@code <s>} post-processor), so the runtime's DJL tokenizer, Hugging Face transformers and
 * Jlama read it like any other checkpoint's.
 *
 * <p>Ids: 0 {@code <s>}, 1 {@code </s>}, 2 {@code <pad>}, then the 256 byte symbols in byte order, then one token per
 * merge in merge order.
 */
public final class ByteLevelBpe {
    public static final int BOS = 0;
    public static final int EOS = 1;
    public static final int PAD = 2;
    static final String[] SPECIALS = {"<s>", "</s>", "<pad>"};
    private static final int FIRST_BYTE = SPECIALS.length;

    /** The GPT-2 pre-tokenizer regex, as the ByteLevel pre-tokenizer applies it (Unicode classes). */
    static final Pattern SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);
    private static final char[] BYTE_CHAR = byteChars();

    private final List<String> tokens;
    private final Map<String, Integer> ids;
    private final List<int[]> merges;
    private final Map<Long, Integer> rank = new HashMap<>();
    private final Map<Long, Integer> mergedId = new HashMap<>();

    private ByteLevelBpe(List<String> tokens, List<int[]> merges) {
        this.tokens = List.copyOf(tokens);
        this.merges = List.copyOf(merges);
        this.ids = new LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i);
        }
        for (int r = 0; r < merges.size(); r++) {
            int[] m = merges.get(r);
            rank.put(pair(m[0], m[1]), r);
            mergedId.put(pair(m[0], m[1]), m[2]);
        }
    }

    /** Pre-tokens of a text, as the ByteLevel pre-tokenizer (no prefix space) splits it. */
    public static List<String> preTokenize(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = SPLIT.matcher(text);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    /**
     * Learns merges until the vocabulary has {@code vocabSize} entries (or no pair occurs twice). The pieces of
     * {@code wholeWords} (pre-tokens such as {@code "joy"}) are merged first, so each becomes exactly one token.
     * Ties between equally frequent pairs go to the lower (left id, right id): deterministic.
     */
    public static ByteLevelBpe train(Iterable<String> corpus, int vocabSize, List<String> wholeWords) {
        Map<String, Long> counts = new TreeMap<>();
        for (String text : corpus) {
            for (String w : preTokenize(text)) {
                counts.merge(w, 1L, Long::sum);
            }
        }
        List<String> tokens = new ArrayList<>(List.of(SPECIALS));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(BYTE_CHAR[b]));
        }
        int n = counts.size();
        int[][] words = new int[n][];
        long[] freq = new long[n];
        int wi = 0;
        for (Map.Entry<String, Long> e : counts.entrySet()) {
            words[wi] = symbols(e.getKey());
            freq[wi++] = e.getValue();
        }
        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, Set<Integer>> where = new HashMap<>();
        for (int w = 0; w < n; w++) {
            addPairs(words[w], w, freq[w], pairCount, where);
        }
        List<int[]> merges = new ArrayList<>();
        // 1. forced whole words: merge the first two pieces of the word's current segmentation until one is left
        for (String word : wholeWords) {
            int[] seg = symbols(word);
            seg = segment(seg, merges);
            while (seg.length > 1) {
                int id = tokens.size();
                tokens.add(tokens.get(seg[0]) + tokens.get(seg[1]));
                int[] m = {seg[0], seg[1], id};
                merges.add(m);
                applyMerge(m, words, freq, pairCount, where);
                seg = segment(symbols(word), merges);
            }
        }
        // 2. the most frequent pair, repeatedly
        while (tokens.size() < vocabSize) {
            long best = -1;
            long bestCount = 0;
            for (Map.Entry<Long, Long> e : pairCount.entrySet()) {
                long c = e.getValue();
                if (c >= 2 && (c > bestCount || (c == bestCount && e.getKey() < best))) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best < 0) {
                break;
            }
            int a = (int) (best >>> 32);
            int b = (int) best;
            int id = tokens.size();
            tokens.add(tokens.get(a) + tokens.get(b));
            int[] m = {a, b, id};
            merges.add(m);
            applyMerge(m, words, freq, pairCount, where);
        }
        return new ByteLevelBpe(tokens, merges);
    }

    private static int[] segment(int[] seg, List<int[]> merges) {
        for (int[] m : merges) {
            seg = mergeIn(seg, m);
        }
        return seg;
    }

    private static void applyMerge(int[] m, int[][] words, long[] freq, Map<Long, Long> pairCount,
                                   Map<Long, Set<Integer>> where) {
        Set<Integer> ws = where.remove(pair(m[0], m[1]));
        if (ws == null) {
            return;
        }
        List<Integer> order = new ArrayList<>(ws);
        order.sort(null);
        for (int w : order) {
            int[] old = words[w];
            int[] neu = mergeIn(old, m);
            if (neu.length == old.length) {
                continue;
            }
            removePairs(old, freq[w], pairCount);
            words[w] = neu;
            addPairs(neu, w, freq[w], pairCount, where);
        }
        pairCount.remove(pair(m[0], m[1]));
    }

    /** Left to right, non-overlapping: the pieces a then b become the merged token. */
    private static int[] mergeIn(int[] seg, int[] m) {
        int[] out = new int[seg.length];
        int k = 0;
        for (int i = 0; i < seg.length; i++) {
            if (i + 1 < seg.length && seg[i] == m[0] && seg[i + 1] == m[1]) {
                out[k++] = m[2];
                i++;
            } else {
                out[k++] = seg[i];
            }
        }
        return k == seg.length ? seg : java.util.Arrays.copyOf(out, k);
    }

    private static void addPairs(int[] seg, int w, long f, Map<Long, Long> pairCount, Map<Long, Set<Integer>> where) {
        for (int i = 0; i + 1 < seg.length; i++) {
            long p = pair(seg[i], seg[i + 1]);
            pairCount.merge(p, f, Long::sum);
            where.computeIfAbsent(p, k -> new HashSet<>()).add(w);
        }
    }

    private static void removePairs(int[] seg, long f, Map<Long, Long> pairCount) {
        for (int i = 0; i + 1 < seg.length; i++) {
            long p = pair(seg[i], seg[i + 1]);
            long c = pairCount.merge(p, -f, Long::sum);
            if (c <= 0) {
                pairCount.remove(p);
            }
        }
    }

    private static long pair(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }

    private static int[] symbols(String word) {
        byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
        int[] s = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            s[i] = FIRST_BYTE + (bytes[i] & 0xff);
        }
        return s;
    }

    public int vocabSize() {
        return tokens.size();
    }

    public int mergeCount() {
        return merges.size();
    }

    public String token(int id) {
        return tokens.get(id);
    }

    /** Token ids of a text (no special tokens): BPE by merge rank inside each pre-token. */
    public int[] encode(String text) {
        List<Integer> out = new ArrayList<>();
        for (String w : preTokenize(text)) {
            int[] seg = symbols(w);
            while (seg.length > 1) {
                int bestAt = -1;
                int bestRank = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < seg.length; i++) {
                    Integer r = rank.get(pair(seg[i], seg[i + 1]));
                    if (r != null && r < bestRank) {
                        bestRank = r;
                        bestAt = i;
                    }
                }
                if (bestAt < 0) {
                    break;
                }
                int[] m = merges.get(bestRank);
                seg = mergeIn(seg, m);
            }
            for (int s : seg) {
                out.add(s);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The text of token ids (specials skipped): the byte symbols mapped back to bytes, decoded as UTF-8. */
    public String decode(int[] idsToDecode) {
        Map<Character, Integer> back = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            back.put(BYTE_CHAR[b], b);
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int id : idsToDecode) {
            if (id < FIRST_BYTE) {
                continue;
            }
            for (char c : tokens.get(id).toCharArray()) {
                bytes.write(back.get(c));
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** Writes {@code tokenizer.json} (and a small {@code tokenizer_config.json} beside it for transformers). */
    public void write(Path tokenizerJson) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.length; i++) {
            ObjectNode a = added.addObject();
            a.put("id", i);
            a.put("content", SPECIALS[i]);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        root.putNull("normalizer");
        ObjectNode pre = root.putObject("pre_tokenizer");
        pre.put("type", "ByteLevel");
        pre.put("add_prefix_space", false);
        pre.put("trim_offsets", true);
        pre.put("use_regex", true);
        ObjectNode post = root.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", SPECIALS[BOS]).put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pairT = post.putArray("pair");
        pairT.addObject().putObject("SpecialToken").put("id", SPECIALS[BOS]).put("type_id", 0);
        pairT.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pairT.addObject().putObject("SpecialToken").put("id", SPECIALS[BOS]).put("type_id", 1);
        pairT.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode st = post.putObject("special_tokens").putObject(SPECIALS[BOS]);
        st.put("id", SPECIALS[BOS]);
        st.putArray("ids").add(BOS);
        st.putArray("tokens").add(SPECIALS[BOS]);
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
        model.put("ignore_merges", false);
        ObjectNode v = model.putObject("vocab");
        for (int i = 0; i < tokens.size(); i++) {
            v.put(tokens.get(i), i);
        }
        ArrayNode m = model.putArray("merges");
        for (int[] mg : merges) {
            m.add(tokens.get(mg[0]) + " " + tokens.get(mg[1]));
        }
        om.writeValue(tokenizerJson.toFile(), root);
        ObjectNode cfg = om.createObjectNode();
        cfg.put("tokenizer_class", "PreTrainedTokenizerFast");
        cfg.put("bos_token", SPECIALS[BOS]);
        cfg.put("eos_token", SPECIALS[EOS]);
        cfg.put("pad_token", SPECIALS[PAD]);
        cfg.put("add_bos_token", true);
        cfg.put("model_max_length", 2048);
        cfg.put("clean_up_tokenization_spaces", false);
        om.writerWithDefaultPrettyPrinter().writeValue(
                tokenizerJson.resolveSibling("tokenizer_config.json").toFile(), cfg);
    }

    /** Reads back a tokenizer.json this class wrote. */
    public static ByteLevelBpe read(Path tokenizerJson) throws IOException {
        JsonNode root = new ObjectMapper().readTree(tokenizerJson.toFile());
        JsonNode vocab = root.path("model").path("vocab");
        String[] toks = new String[vocab.size()];
        vocab.fields().forEachRemaining(e -> toks[e.getValue().asInt()] = e.getKey());
        Map<String, Integer> id = new HashMap<>();
        for (int i = 0; i < toks.length; i++) {
            id.put(toks[i], i);
        }
        List<int[]> merges = new ArrayList<>();
        for (JsonNode m : root.path("model").path("merges")) {
            String[] ab = m.asText().split(" ", 2);
            merges.add(new int[] {id.get(ab[0]), id.get(ab[1]), id.get(ab[0] + ab[1])});
        }
        return new ByteLevelBpe(List.of(toks), merges);
    }

    private static char[] byteChars() {
        char[] map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char) b : (char) (256 + n++);
        }
        return map;
    }
}
