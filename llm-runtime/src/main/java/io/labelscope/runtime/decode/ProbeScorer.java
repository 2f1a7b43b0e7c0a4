package io.labelscope.runtime.decode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.model.KvCache;
import io.labelscope.runtime.task.OptionTokens;
import io.labelscope.runtime.task.ProbePrompts;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskMethod;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Scores the test-time breakdown probes of documents (SPEC §3): for each probe, the logits of the two answer words'
 * first tokens at the position where the answer starts. Nothing is decoded: a probe is one position.
 *
 * <p>Prefix sharing (the default): the breakdown instruction and demos are prefilled once per task and kept; per
 * chunk of documents their cache is copied to one row per document and the documents' own parts (the query block up
 * to where the probes differ) run in one batched forward; then each document's row is repeated once per probe and
 * all probe suffixes (a label and the rest of the block, a handful of tokens) run in one more batched forward, whose
 * last position per row is all that is projected onto the vocabulary. So a document costs two short forwards over
 * its probes instead of |L|+1 or C(|L|+1, 2) full prompts. With {@code sharePrefix = false} every probe is an
 * independent full prompt (the cost this avoids, for benchmarks and as a test reference). Both tokenise prefix,
 * document part and suffix separately, so their token ids, and up to rounding their logits, are equal.
 *
 * <p>Rows per forward: at most {@code maxRows} probes (default {@link #ROWS_PER_BATCH} ×
 * {@link io.labelscope.runtime.RuntimeConfig#maxBatchSize()}: a probe row is a handful of suffix tokens, not a whole
 * decode, so more of them fit the work of one decoding batch), but never less than one document's probes (a
 * document's probes always run together). One call at a time; close it to free the prefix caches.
 */
public final class ProbeScorer implements AutoCloseable {

    /**
     * Unary probes of one document, arrays in {@link #items()} order (labels then none).
     *
     * @param promptTokens tokens of all its probes, prefix and document part counted once
     * @param latencyNanos wall time of the call that scored it (all its documents)
     */
    public record UnaryResult(List<String> items, double[] reasonable, double[] unreasonable, int promptTokens,
                              long latencyNanos) {}

    /** Binary probes of one document, arrays in {@link ProbePrompts#pairs()} order. */
    public record BinaryResult(List<String> items, List<ProbePrompts.Pair> pairs, double[] logitA, double[] logitB,
                               int promptTokens, long latencyNanos) {}

    /** One method's prepared parts: prefix ids, its cache (when shared), the option tokens. */
    private static final class Side implements AutoCloseable {
        final long[] prefixIds;
        final KvCache prefix;
        final OptionTokens options;

        Side(long[] prefixIds, KvCache prefix, OptionTokens options) {
            this.prefixIds = prefixIds;
            this.prefix = prefix;
            this.options = options;
        }

        @Override
        public void close() {
            if (prefix != null) {
                prefix.close();
            }
        }
    }

    /** Per probe, the logits of its first and second answer option (scored interleaved: probe p at 2p, 2p+1). */
    private record OptionLogits(double[] first, double[] second) {
        static OptionLogits of(float[] interleaved) {
            int n = interleaved.length / 2;
            double[] first = new double[n];
            double[] second = new double[n];
            for (int p = 0; p < n; p++) {
                first[p] = interleaved[2 * p];
                second[p] = interleaved[2 * p + 1];
            }
            return new OptionLogits(first, second);
        }
    }

    /** One document's token ids: its part and one suffix per probe. */
    private record Tokens(long[] document, List<long[]> suffixes) {}

    /** Default probe rows per forward, in units of the runtime's decoding batch size. */
    public static final int ROWS_PER_BATCH = 4;

    private final LlmModel model;
    private final TaskDefinition task;
    private final ProbePrompts prompts;
    private final boolean share;
    private final int maxRows;
    private final Side unary;
    private final Side binary;

    public ProbeScorer(LlmModel model, TaskDefinition task) {
        this(model, task, true);
    }

    /** Prepares the task's breakdown methods (those of {@code task.methods()}); bad option words fail here. */
    public ProbeScorer(LlmModel model, TaskDefinition task, boolean sharePrefix) {
        this(model, task, sharePrefix, ROWS_PER_BATCH * model.runtime().maxBatchSize());
    }

    /** @param maxRows probe rows per forward (at least one document's probes run together regardless) */
    public ProbeScorer(LlmModel model, TaskDefinition task, boolean sharePrefix, int maxRows) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be >= 1, got " + maxRows);
        }
        this.maxRows = maxRows;
        this.model = model;
        this.task = task;
        this.prompts = new ProbePrompts(task);
        this.share = sharePrefix;
        Side u = null;
        try {
            u = task.methods().contains(TaskMethod.UNARY) ? side(prompts.unaryPrefix(),
                    new OptionTokens(model, task.breakdown().reasonable(), task.breakdown().unreasonable())) : null;
            this.binary = task.methods().contains(TaskMethod.BINARY) ? side(prompts.binaryPrefix(),
                    new OptionTokens(model, task.breakdown().optionA(), task.breakdown().optionB())) : null;
        } catch (RuntimeException e) {
            if (u != null) {
                u.close();
            }
            throw e;
        }
        this.unary = u;
    }

    private Side side(String prefixText, OptionTokens options) {
        long[] ids = model.encode(prefixText, true);
        if (!share) {
            return new Side(ids, null, options);
        }
        KvCache cache = model.lm().newCache(model.manager(), 1);
        try (NDManager step = model.manager().newSubManager()) {
            model.lm().hiddenStates(step, new long[][] {ids}, cache);
        } catch (RuntimeException e) {
            cache.close();
            throw e;
        }
        return new Side(ids, cache, options);
    }

    public ProbePrompts prompts() {
        return prompts;
    }

    /** Labels then {@code none}. */
    public List<String> items() {
        return prompts.items();
    }

    public TaskDefinition task() {
        return task;
    }

    /** The option tokens of a breakdown method this scorer prepared. */
    public OptionTokens options(TaskMethod m) {
        return require(m).options;
    }

    /** Token ids of one whole probe prompt (prefix with BOS, document part, suffix), as scored. */
    public long[] promptIds(TaskMethod m, String text, int probe) {
        Side s = require(m);
        Tokens t = tokens(m, text);
        return concat(s.prefixIds, t.document(), t.suffixes().get(probe));
    }

    /** The most positions any probe of this document needs (the context-window check). */
    public int longestProbeTokens(TaskMethod m, String text) {
        Side s = require(m);
        Tokens t = tokens(m, text);
        int longest = 0;
        for (long[] suf : t.suffixes()) {
            longest = Math.max(longest, suf.length);
        }
        return s.prefixIds.length + t.document().length + longest;
    }

    public List<UnaryResult> unary(List<String> documents) {
        long t0 = System.nanoTime();
        List<Tokens> toks = documents.stream().map(d -> tokens(TaskMethod.UNARY, d)).toList();
        List<float[]> logits = score(require(TaskMethod.UNARY), toks);
        long latency = System.nanoTime() - t0;
        List<UnaryResult> out = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            OptionLogits o = OptionLogits.of(logits.get(i));
            out.add(new UnaryResult(prompts.items(), o.first(), o.second(), promptTokens(unary, toks.get(i)),
                    latency));
        }
        return out;
    }

    public List<BinaryResult> binary(List<String> documents) {
        long t0 = System.nanoTime();
        List<Tokens> toks = documents.stream().map(d -> tokens(TaskMethod.BINARY, d)).toList();
        List<float[]> logits = score(require(TaskMethod.BINARY), toks);
        long latency = System.nanoTime() - t0;
        List<BinaryResult> out = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            OptionLogits o = OptionLogits.of(logits.get(i));
            out.add(new BinaryResult(prompts.items(), prompts.pairs(), o.first(), o.second(),
                    promptTokens(binary, toks.get(i)), latency));
        }
        return out;
    }

    private Side require(TaskMethod m) {
        Side s = m == TaskMethod.UNARY ? unary : m == TaskMethod.BINARY ? binary : null;
        if (s == null) {
            throw new IllegalStateException("task '" + task.name() + "' does not run the " + m.wireName()
                    + " method (its methods: " + task.breakdown().methodNames() + ")");
        }
        return s;
    }

    private Tokens tokens(TaskMethod m, String text) {
        ProbePrompts.Probes p = m == TaskMethod.UNARY ? prompts.unary(text) : prompts.binary(text);
        long[] doc = model.encode(p.document(), false);
        if (doc.length == 0) {
            throw new IllegalArgumentException("empty document part: nothing to score");
        }
        List<long[]> suffixes = new ArrayList<>(p.suffixes().size());
        for (String s : p.suffixes()) {
            suffixes.add(model.encode(s, false));
        }
        return new Tokens(doc, suffixes);
    }

    private static int promptTokens(Side s, Tokens t) {
        int n = s.prefixIds.length + t.document().length;
        for (long[] suf : t.suffixes()) {
            n += suf.length;
        }
        return n;
    }

    /** Per document, its probes' option logits as [probe][option] flattened. */
    private List<float[]> score(Side side, List<Tokens> docs) {
        List<float[]> out = new ArrayList<>(docs.size());
        int budget = maxRows;
        if (share) {
            int from = 0;
            while (from < docs.size()) {
                // Whole documents per chunk, at least one, at most `budget` probe rows otherwise.
                int to = from + 1;
                int rows = docs.get(from).suffixes().size();
                while (to < docs.size() && rows + docs.get(to).suffixes().size() <= budget) {
                    rows += docs.get(to).suffixes().size();
                    to++;
                }
                out.addAll(shared(side, docs.subList(from, to)));
                from = to;
            }
        } else {
            List<long[]> all = new ArrayList<>();
            for (Tokens t : docs) {
                for (long[] suf : t.suffixes()) {
                    all.add(concat(side.prefixIds, t.document(), suf));
                }
            }
            float[] flat = new float[all.size() * 2];
            for (int from = 0; from < all.size(); from += budget) {
                List<long[]> chunk = all.subList(from, Math.min(all.size(), from + budget));
                KvCache cache = model.lm().newCache(model.manager(), chunk.size());
                try (NDManager step = model.manager().newSubManager()) {
                    float[] l = options(side, model.lm().forward(step, leftPad(chunk), cache, true));
                    System.arraycopy(l, 0, flat, from * 2, l.length);
                } finally {
                    cache.close();
                }
            }
            int at = 0;
            for (Tokens t : docs) {
                int n = t.suffixes().size() * 2;
                out.add(Arrays.copyOfRange(flat, at, at + n));
                at += n;
            }
        }
        return out;
    }

    /** One chunk: documents' parts on the shared prefix, then every probe suffix on its document's row. */
    private List<float[]> shared(Side side, List<Tokens> docs) {
        List<long[]> parts = new ArrayList<>(docs.size());
        List<long[]> suffixes = new ArrayList<>();
        int[] counts = new int[docs.size()];
        for (int i = 0; i < docs.size(); i++) {
            parts.add(docs.get(i).document());
            suffixes.addAll(docs.get(i).suffixes());
            counts[i] = docs.get(i).suffixes().size();
        }
        float[] flat;
        KvCache cache = side.prefix.expand(model.manager(), docs.size());
        try {
            try (NDManager step = model.manager().newSubManager()) {
                // Only the cache matters here: no position of the document part is projected onto the vocabulary.
                model.lm().hiddenStates(step, leftPad(parts), cache);
            }
            cache.repeatRows(counts);
            try (NDManager step = model.manager().newSubManager()) {
                flat = options(side, model.lm().forward(step, leftPad(suffixes), cache, true));
            }
        } finally {
            cache.close();
        }
        List<float[]> out = new ArrayList<>(docs.size());
        int at = 0;
        for (int c : counts) {
            out.add(Arrays.copyOfRange(flat, at, at + 2 * c));
            at += 2 * c;
        }
        return out;
    }

    /** [rows, vocab] last-position logits → per row the two options' max-reduced logits (2 floats leave the device). */
    private float[] options(Side side, NDArray logits) {
        long rows = logits.getShape().get(0);
        int w = side.options.width();
        NDArray idx = logits.getManager().create(side.options.gatherIndex());
        return logits.get(new NDIndex(":, {}", idx)).reshape(rows, 2, w).max(new int[] {2}).toFloatArray();
    }

    private static long[][] leftPad(List<long[]> rows) {
        int width = 0;
        for (long[] r : rows) {
            width = Math.max(width, r.length);
        }
        long[][] out = new long[rows.size()][width];
        for (int i = 0; i < rows.size(); i++) {
            long[] r = rows.get(i);
            Arrays.fill(out[i], -1);
            System.arraycopy(r, 0, out[i], width - r.length, r.length);
        }
        return out;
    }

    private static long[] concat(long[]... parts) {
        int n = 0;
        for (long[] p : parts) {
            n += p.length;
        }
        long[] out = new long[n];
        int at = 0;
        for (long[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    @Override
    public void close() {
        if (unary != null) {
            unary.close();
        }
        if (binary != null) {
            binary.close();
        }
    }
}
