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
 * independent full prompt (the cost this avoids, for benchmarks and as a test reference). Both feed the ids of
 * tokenising each whole probe in one piece ({@link PromptTokens}): the shared head is the prefix's tokens the probes
 * all begin with, the document part the tokens all of a document's probes share after it, each suffix the rest; so
 * their token ids, and up to rounding their logits, are equal. A document whose probes do not begin with the shared
 * head (its first characters merge into the prefix's last token) is scored as independent full prompts.
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

    /** One method's prepared parts: its prompt tokens (the shared head), the head's cache (when shared), options. */
    private static final class Side implements AutoCloseable {
        final PromptTokens tokens;
        final long[] prefixIds;
        final KvCache prefix;
        final OptionTokens options;

        Side(PromptTokens tokens, KvCache prefix, OptionTokens options) {
            this.tokens = tokens;
            this.prefixIds = tokens.head();
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

    /**
     * One document's token ids: every probe is {@code head + document + suffixes[i]}, equal to tokenising that whole
     * probe in one piece. {@code onHead}: the head is the side's shared prefix ids (else the head is empty and the
     * document part holds everything the probes share).
     */
    private record Tokens(long[] head, long[] document, List<long[]> suffixes, boolean onHead) {
        long[] probe(int i) {
            return concat(head, document, suffixes.get(i));
        }
    }

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
        PromptTokens tokens = new PromptTokens(model, prefixText, true);
        long[] ids = tokens.head();
        if (!share) {
            return new Side(tokens, null, options);
        }
        KvCache cache = model.lm().newCache(model.manager(), 1);
        try (NDManager step = model.manager().newSubManager()) {
            model.lm().hiddenStates(step, new long[][] {ids}, cache);
        } catch (RuntimeException e) {
            cache.close();
            throw e;
        }
        return new Side(tokens, cache, options);
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
        return tokens(m, text).probe(probe);
    }

    /** The most positions any probe of this document needs (the context-window check). */
    public int longestProbeTokens(TaskMethod m, String text) {
        Tokens t = tokens(m, text);
        int longest = 0;
        for (long[] suf : t.suffixes()) {
            longest = Math.max(longest, suf.length);
        }
        return t.head().length + t.document().length + longest;
    }

    public List<UnaryResult> unary(List<String> documents) {
        long t0 = System.nanoTime();
        List<Tokens> toks = documents.stream().map(d -> tokens(TaskMethod.UNARY, d)).toList();
        List<float[]> logits = score(require(TaskMethod.UNARY), toks);
        long latency = System.nanoTime() - t0;
        List<UnaryResult> out = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            OptionLogits o = OptionLogits.of(logits.get(i));
            out.add(new UnaryResult(prompts.items(), o.first(), o.second(), promptTokens(toks.get(i)),
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
                    promptTokens(toks.get(i)), latency));
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

    /** Tokenises each whole probe in one piece, then cuts the ids into head, shared document part and suffixes. */
    private Tokens tokens(TaskMethod m, String text) {
        Side side = require(m);
        ProbePrompts.Probes p = m == TaskMethod.UNARY ? prompts.unary(text) : prompts.binary(text);
        List<long[]> whole = new ArrayList<>(p.suffixes().size());
        boolean onHead = true;
        int shortest = Integer.MAX_VALUE;
        for (int i = 0; i < p.suffixes().size(); i++) {
            PromptTokens.Split split = side.tokens.split(p.prompt(i));
            whole.add(split.ids());
            onHead &= split.onHead();
            shortest = Math.min(shortest, split.ids().length);
        }
        int head = onHead ? side.prefixIds.length : 0;
        // Every suffix keeps at least its last token: that position is the one scored.
        int doc = Math.min(PromptTokens.commonLength(whole, head), shortest - head - 1);
        if (onHead && doc < 1) {
            // Nothing for the document part's batched forward to run: score this document's probes whole instead.
            onHead = false;
            head = 0;
            doc = Math.min(PromptTokens.commonLength(whole, 0), shortest - 1);
        }
        if (doc < 0) {
            throw new IllegalArgumentException("empty probe: nothing to score");
        }
        long[] first = whole.get(0);
        List<long[]> suffixes = new ArrayList<>(whole.size());
        for (long[] w : whole) {
            suffixes.add(Arrays.copyOfRange(w, head + doc, w.length));
        }
        return new Tokens(Arrays.copyOfRange(first, 0, head), Arrays.copyOfRange(first, head, head + doc), suffixes,
                onHead);
    }

    private static int promptTokens(Tokens t) {
        int n = t.head().length + t.document().length;
        for (long[] suf : t.suffixes()) {
            n += suf.length;
        }
        return n;
    }

    /** Per document, its probes' option logits as [probe][option] flattened. */
    private List<float[]> score(Side side, List<Tokens> docs) {
        List<float[]> out = new ArrayList<>(docs.size());
        int budget = maxRows;
        if (share && docs.stream().allMatch(Tokens::onHead)) {
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
        } else if (share) {
            // Documents whose probes do not begin with the shared head are scored whole, the rest shared.
            List<Tokens> onHead = docs.stream().filter(Tokens::onHead).toList();
            List<Tokens> off = docs.stream().filter(t -> !t.onHead()).toList();
            java.util.Iterator<float[]> a = score(side, onHead).iterator();
            java.util.Iterator<float[]> b = independent(side, off).iterator();
            for (Tokens t : docs) {
                out.add(t.onHead() ? a.next() : b.next());
            }
        } else {
            out.addAll(independent(side, docs));
        }
        return out;
    }

    /** Every probe as an independent full prompt, {@code maxRows} rows per forward. */
    private List<float[]> independent(Side side, List<Tokens> docs) {
        List<long[]> all = new ArrayList<>();
        for (Tokens t : docs) {
            for (int i = 0; i < t.suffixes().size(); i++) {
                all.add(t.probe(i));
            }
        }
        float[] flat = new float[all.size() * 2];
        for (int from = 0; from < all.size(); from += maxRows) {
            List<long[]> chunk = all.subList(from, Math.min(all.size(), from + maxRows));
            KvCache cache = model.lm().newCache(model.manager(), chunk.size());
            try (NDManager step = model.manager().newSubManager()) {
                float[] l = options(side, model.lm().forward(step, leftPad(chunk), cache, true));
                System.arraycopy(l, 0, flat, from * 2, l.length);
            } finally {
                cache.close();
            }
        }
        List<float[]> out = new ArrayList<>(docs.size());
        int at = 0;
        for (Tokens t : docs) {
            int n = t.suffixes().size() * 2;
            out.add(Arrays.copyOfRange(flat, at, at + n));
            at += n;
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
