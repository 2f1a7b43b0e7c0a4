package io.labelscope.runtime.decode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.model.KvCache;
import io.labelscope.runtime.task.AnswerParser;
import io.labelscope.runtime.task.LabelSpace;
import io.labelscope.runtime.task.OutputFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Batched greedy decoding with a KV cache. Rows are left-padded; each row's positions count only its own tokens and
 * padding is masked, so a row's result does not depend on its batch mates. Optional: a shared prefix whose cache is
 * computed once ({@link #prefill}) and copied into every batch; label-step capture (the |L|+1 label logits gathered
 * and max-reduced on the device, only at steps that need them); forced continuations (scoring given answers).
 *
 * <p>Every step's temporaries live in a sub-manager closed at the end of the step; the cache lives in its own.
 */
public final class GreedyDecoder {

    /** Stopping rules. {@code marker} may be null. */
    public record Options(int maxNewTokens, String marker, boolean recompute) {
        public static Options of(int maxNewTokens) {
            return new Options(maxNewTokens, "Input:", false);
        }

        /** Decode by re-running the whole sequence every step (no KV cache): for tests and benchmarks. */
        public Options withRecompute(boolean r) {
            return new Options(maxNewTokens, marker, r);
        }
    }

    /** What label capture needs: the label space and the answer format. */
    public record Capture(LabelSpace space, OutputFormat format, boolean firstOccurrenceOnly) {}

    /** A captured step before parsing: token index, char offset in the text, token, label logits. */
    public record RawStep(int tokenIndex, int charStart, long tokenId, float[] logits) {}

    /** One row's outcome. */
    public record Raw(long[] ids, String text, StopReason stop, List<RawStep> steps, int promptTokens) {}

    /** A reusable prefix: its token ids and a single-row cache. Close it when the task is done. */
    public static final class Prefix implements AutoCloseable {
        private final long[] ids;
        private final KvCache cache;

        Prefix(long[] ids, KvCache cache) {
            this.ids = ids;
            this.cache = cache;
        }

        public long[] ids() {
            return ids.clone();
        }

        public int length() {
            return ids.length;
        }

        @Override
        public void close() {
            cache.close();
        }
    }

    private final LlmModel model;

    public GreedyDecoder(LlmModel model) {
        this.model = model;
    }

    /** Runs the prefix once and keeps its cache. */
    public Prefix prefill(long[] prefixIds) {
        KvCache cache = model.lm().newCache(model.manager(), 1);
        try (NDManager step = model.manager().newSubManager()) {
            model.lm().forward(step, new long[][] {prefixIds}, cache, true);
        } catch (RuntimeException e) {
            cache.close();
            throw e;
        }
        return new Prefix(prefixIds.clone(), cache);
    }

    /**
     * Decodes every prompt; splits into chunks of the runtime's max batch size.
     *
     * @param prefix shared prefix (its cache is reused) or null; the prompts then hold only what follows it
     * @param prompts token ids per row (after the prefix, if any)
     * @param forced per row, tokens to emit instead of the argmax (scoring a given answer), or null
     * @param capture label-step capture or null
     */
    public List<Raw> decode(Prefix prefix, List<long[]> prompts, List<long[]> forced, Options opt, Capture capture) {
        List<Raw> out = new ArrayList<>(prompts.size());
        int max = model.runtime().maxBatchSize();
        for (int from = 0; from < prompts.size(); from += max) {
            int to = Math.min(prompts.size(), from + max);
            out.addAll(decodeBatch(prefix, prompts.subList(from, to), forced == null ? null : forced.subList(from, to),
                    opt, capture));
        }
        return out;
    }

    private static final class Row {
        final List<Long> ids = new ArrayList<>();
        final List<RawStep> steps = new ArrayList<>();
        final boolean[] seen;
        String text = "";
        StopReason stop;

        Row(int labels) {
            seen = new boolean[labels];
        }

        long[] idArray() {
            return ids.stream().mapToLong(Long::longValue).toArray();
        }
    }

    private List<Raw> decodeBatch(Prefix prefix, List<long[]> prompts, List<long[]> forced, Options opt,
                                  Capture capture) {
        int b = prompts.size();
        int width = 0;
        for (long[] p : prompts) {
            width = Math.max(width, p.length);
        }
        if (width == 0) {
            throw new IllegalArgumentException("empty prompt");
        }
        long[][] first = new long[b][width];
        for (int i = 0; i < b; i++) {
            long[] p = prompts.get(i);
            Arrays.fill(first[i], -1);
            System.arraycopy(p, 0, first[i], width - p.length, p.length);
        }
        long[] eos = model.config().eosTokenIds().stream().mapToLong(Integer::longValue).toArray();
        int labels = capture == null ? 0 : capture.space().names().size();
        Row[] rows = new Row[b];
        for (int i = 0; i < b; i++) {
            rows[i] = new Row(labels);
        }
        NDManager root = model.manager();
        NDArray gather = null;
        if (capture != null) {
            gather = root.create(capture.space().gatherIndex());
        }
        long[][] full = opt.recompute() ? first : null;
        // Room for the prompt and every new token up front, so the cache never reallocates while decoding.
        int extraSlots = width + opt.maxNewTokens();
        KvCache cache = newCache(prefix, b, extraSlots);
        NDManager cur = root.newSubManager();
        try {
            NDArray logits = model.lm().forward(cur, first, cache, true);
            // live[p] = the row whose sequence sits at position p of the cache and the logits. Finished rows are
            // dropped from the cache (keepRows) so later steps only compute live sequences.
            int[] live = new int[b];
            for (int i = 0; i < b; i++) {
                live[i] = i;
            }
            for (int t = 0; t < opt.maxNewTokens(); t++) {
                int n = live.length;
                long[] next = logits.argMax(-1).toLongArray();
                boolean[] need = new boolean[n];
                boolean any = false;
                for (int p = 0; p < n; p++) {
                    Row r = rows[live[p]];
                    if (r.stop != null) {
                        continue;
                    }
                    if (forced != null) {
                        long[] f = forced.get(live[p]);
                        next[p] = t < f.length ? f[t] : -1;
                        if (next[p] < 0) {
                            r.stop = StopReason.EOS;
                            continue;
                        }
                    }
                    if (capture != null) {
                        int li = capture.space().labelOf(next[p]);
                        if (li >= 0 && AnswerParser.insideList(r.text, capture.format())
                                && !(capture.firstOccurrenceOnly() && r.seen[li])) {
                            need[p] = true;
                            any = true;
                            r.seen[li] = true;
                        }
                    }
                }
                float[] lab = null;
                int w = capture == null ? 0 : capture.space().width();
                if (any) {
                    // |L|+1 values per row leave the device, never the vocabulary row.
                    lab = logits.get(new NDIndex(":, {}", gather)).reshape(n, labels, w).max(new int[] {2})
                            .toFloatArray();
                }
                long[] feedTok = new long[n];
                List<Integer> keep = new ArrayList<>(n);
                for (int p = 0; p < n; p++) {
                    Row r = rows[live[p]];
                    feedTok[p] = -1;
                    if (r.stop != null) {
                        continue;
                    }
                    long tok = next[p];
                    int charStart = r.text.length();
                    if (need[p]) {
                        r.steps.add(new RawStep(r.ids.size(), charStart, tok,
                                Arrays.copyOfRange(lab, p * labels, (p + 1) * labels)));
                    }
                    r.ids.add(tok);
                    if (contains(eos, tok)) {
                        r.stop = StopReason.EOS;
                        continue;
                    }
                    r.text = model.decode(r.idArray());
                    if (opt.marker() != null && r.text.contains(opt.marker())) {
                        r.stop = StopReason.MARKER;
                        continue;
                    }
                    if (r.ids.size() >= opt.maxNewTokens()) {
                        r.stop = StopReason.MAX_TOKENS;
                        continue;
                    }
                    feedTok[p] = tok;
                    keep.add(p);
                }
                if (keep.isEmpty()) {
                    break;
                }
                long[][] feed;
                if (full == null && keep.size() < n) {
                    int[] kept = keep.stream().mapToInt(Integer::intValue).toArray();
                    cache.keepRows(kept);
                    int[] nextLive = new int[kept.length];
                    feed = new long[kept.length][1];
                    for (int q = 0; q < kept.length; q++) {
                        nextLive[q] = live[kept[q]];
                        feed[q][0] = feedTok[kept[q]];
                    }
                    live = nextLive;
                } else {
                    feed = new long[n][1];
                    for (int p = 0; p < n; p++) {
                        feed[p][0] = feedTok[p];
                    }
                }
                NDManager nxt = root.newSubManager();
                if (full != null) {
                    full = appendColumn(full, feed);
                    cache.close();
                    cache = newCache(prefix, b, full[0].length);
                    logits = model.lm().forward(nxt, full, cache, true);
                } else {
                    logits = model.lm().forward(nxt, feed, cache, true);
                }
                cur.close();
                cur = nxt;
            }
        } finally {
            cur.close();
            cache.close();
            if (gather != null) {
                gather.close();
            }
        }
        List<Raw> out = new ArrayList<>(b);
        int prefixLen = prefix == null ? 0 : prefix.length();
        for (int i = 0; i < b; i++) {
            Row r = rows[i];
            StopReason stop = r.stop == null ? StopReason.MAX_TOKENS : r.stop;
            String text = r.text;
            List<RawStep> steps = r.steps;
            if (stop == StopReason.MARKER) {
                int cut = text.indexOf(opt.marker());
                text = text.substring(0, cut);
                steps = steps.stream().filter(s -> s.charStart() < cut).toList();
            }
            out.add(new Raw(r.idArray(), text, stop, steps, prefixLen + prompts.get(i).length));
        }
        return out;
    }

    /** A cache of {@code rows} rows, copies of the prefix's when there is one, with room for extraSlots more. */
    private KvCache newCache(Prefix prefix, int rows, int extraSlots) {
        if (prefix != null) {
            return prefix.cache.expand(model.manager(), rows, extraSlots);
        }
        KvCache c = model.lm().newCache(model.manager(), rows);
        c.reserve(extraSlots);
        return c;
    }

    private static long[][] appendColumn(long[][] a, long[][] col) {
        long[][] o = new long[a.length][];
        for (int i = 0; i < a.length; i++) {
            o[i] = Arrays.copyOf(a[i], a[i].length + 1);
            o[i][a[i].length] = col[i][0];
        }
        return o;
    }

    private static boolean contains(long[] a, long v) {
        for (long x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }
}
