package io.labelscope.demomodel;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.labelscope.runtime.model.CausalLm;
import io.labelscope.runtime.model.KvCache;
import io.labelscope.runtime.task.PromptRenderer;
import io.labelscope.runtime.task.TaskDefinition;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;

/**
 * Trains a {@link Checkpoint.Spec} Llama from scratch through the runtime's own {@link CausalLm} (the same forward
 * pass that serves it): weights are NDArrays with gradients attached, a step runs the task's shared prompt prefix
 * once into a KV cache, expands it over the batch (exactly the prefix reuse of decoding) and runs the rest of every
 * row; the loss is the mean log-softmax cross-entropy of the answer tokens only (the JSON answer line and the end of
 * sequence), and Adam updates the weights in place. Seeded: the initial weights, the order of the examples and the
 * sampled targets all come from the seed; with a fixed libtorch thread count a run repeats bit for bit.
 *
 * <p>A non-finite loss or gradient stops training with an exception naming the step: it must never pass silently.
 */
public final class Trainer implements AutoCloseable {

    /**
     * Schedule and batch settings.
     *
     * @param epochs passes over the training set; a fraction runs the last pass only partly (its first batches,
     *     which are in random order), so the schedule can be sized to a time budget
     * @param multiLabelWeight how many times, in expectation, a row whose drawn answer has two or more labels
     *     appears per epoch (1 = as in the data; 2.5 = twice, plus a third time with probability 0.5). Greedy
     *     decoding closes the list whenever "close" is the likelier next token, so a model trained on data where
     *     most answers have one label almost never names two; repeating the multi-label answers raises the
     *     probability of continuing the list where the text supports a second label.
     */
    public record Options(double epochs, int batchSize, float peakLr, float warmupFraction, float minLrFraction,
                          float clipNorm, int maxQueryTokens, long seed, int maxSkippedSteps,
                          double multiLabelWeight) {
        public Options {
            if (!(epochs > 0)) {
                throw new IllegalArgumentException("epochs must be positive, got " + epochs);
            }
            if (!(multiLabelWeight >= 1)) {
                throw new IllegalArgumentException("multi-label weight must be at least 1, got " + multiLabelWeight);
            }
        }

        public static Options defaults() {
            return new Options(3, 64, 2e-3f, 0.05f, 0.1f, 1.0f, 192, 1234L, 3, 1.0);
        }

        public Options withMaxSkippedSteps(int n) {
            return new Options(epochs, batchSize, peakLr, warmupFraction, minLrFraction, clipNorm, maxQueryTokens, seed, n,
                    multiLabelWeight);
        }

        public Options withEpochs(double e) {
            return new Options(e, batchSize, peakLr, warmupFraction, minLrFraction, clipNorm, maxQueryTokens, seed,
                    maxSkippedSteps, multiLabelWeight);
        }

        public Options withBatchSize(int b) {
            return new Options(epochs, b, peakLr, warmupFraction, minLrFraction, clipNorm, maxQueryTokens, seed,
                    maxSkippedSteps, multiLabelWeight);
        }

        public Options withPeakLr(float lr) {
            return new Options(epochs, batchSize, lr, warmupFraction, minLrFraction, clipNorm, maxQueryTokens, seed,
                    maxSkippedSteps, multiLabelWeight);
        }

        public Options withSeed(long s) {
            return new Options(epochs, batchSize, peakLr, warmupFraction, minLrFraction, clipNorm, maxQueryTokens, s,
                    maxSkippedSteps, multiLabelWeight);
        }

        public Options withMultiLabelWeight(double w) {
            return new Options(epochs, batchSize, peakLr, warmupFraction, minLrFraction, clipNorm, maxQueryTokens, seed,
                    maxSkippedSteps, w);
        }
    }

    /** A training example: the query tokens (after the shared prefix) and the annotators' answer choices. */
    record Example(long[] query, List<List<String>> annotators) {}

    private final Checkpoint.Spec spec;
    private final TaskDefinition task;
    private final PromptRenderer renderer;
    private final HuggingFaceTokenizer tokenizer;
    private final Options opt;
    final NDManager root;
    private final Map<String, NDArray> weights = new LinkedHashMap<>();
    private final Map<String, NDArray[]> moments = new HashMap<>();
    final CausalLm lm;
    final long[] prefix;
    private final Map<List<String>, long[]> answerIds = new HashMap<>();
    private int adamStep;
    private final List<Integer> skipped = new ArrayList<>();

    public Trainer(Checkpoint.Spec spec, TaskDefinition task, Path tokenizerJson, Options opt) throws IOException {
        this.spec = spec;
        this.task = task;
        this.renderer = new PromptRenderer(task);
        this.opt = opt;
        this.tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson,
                Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
        this.root = NDManager.newBaseManager(Device.cpu(), "PyTorch");
        for (Map.Entry<String, float[]> e : Checkpoint.init(spec, opt.seed()).entrySet()) {
            NDArray w = root.create(e.getValue(), new Shape(Checkpoint.shapes(spec).get(e.getKey())));
            w.setRequiresGradient(true);
            weights.put(e.getKey(), w);
        }
        this.lm = CausalLm.fromTensors(spec.config(), weights, root, DataType.FLOAT32);
        // Tokenised exactly as LabelDecoder does: the prefix with BOS, the query and the answer without.
        this.prefix = tokenizer.encode(renderer.prefix(), true, false).getIds();
    }

    public Map<String, NDArray> weights() {
        return Collections.unmodifiableMap(weights);
    }

    public Checkpoint.Spec spec() {
        return spec;
    }

    /** Query token ids of a document (truncated to the first {@code maxQueryTokens}). */
    long[] queryIds(String text) {
        long[] q = tokenizer.encode(renderer.query(text), false, false).getIds();
        return q.length > opt.maxQueryTokens() ? java.util.Arrays.copyOf(q, opt.maxQueryTokens()) : q;
    }

    /** The answer the model must write after the query: newline, the JSON answer list, end of sequence. */
    long[] answer(List<String> labels) {
        return answerIds.computeIfAbsent(labels, ls -> {
            long[] a = tokenizer.encode("\n" + renderer.answer(ls), false, false).getIds();
            long[] out = java.util.Arrays.copyOf(a, a.length + 1);
            out[a.length] = ByteLevelBpe.EOS;
            return out;
        });
    }

    List<Example> examples(List<DemoData.Doc> docs) {
        List<Example> out = new ArrayList<>(docs.size());
        for (DemoData.Doc d : docs) {
            out.add(new Example(queryIds(d.text()), d.annotators()));
        }
        return out;
    }

    /** One training row: query ids, the drawn answer's labels and their answer ids. */
    record Row(long[] query, List<String> labels, long[] answer) {}

    /**
     * Mini-batches of one epoch: the examples shuffled, each given one annotator's answer drawn at random (and a
     * multi-label answer repeated as {@link Options#multiLabelWeight} says), then sorted by length inside windows
     * of 32 batches (little padding) and the batches shuffled.
     */
    List<List<Row>> epochBatches(List<Example> ex, Random r) {
        List<Row> rows = new ArrayList<>(ex.size());
        double weight = opt.multiLabelWeight();
        int whole = (int) Math.floor(weight);
        double frac = weight - whole;
        for (Example e : ex) {
            List<String> target = e.annotators().get(r.nextInt(e.annotators().size()));
            Row row = new Row(e.query(), target, answer(target));
            int copies = 1;
            // Draws only when oversampling is on, so weight 1 keeps the random sequence (and old runs) unchanged.
            if (target.size() >= 2 && weight > 1) {
                copies = whole + (frac > 0 && r.nextDouble() < frac ? 1 : 0);
            }
            for (int c = 0; c < copies; c++) {
                rows.add(row);
            }
        }
        Collections.shuffle(rows, r);
        int b = opt.batchSize();
        List<List<Row>> batches = new ArrayList<>();
        int window = b * 32;
        for (int from = 0; from < rows.size(); from += window) {
            List<Row> w = new ArrayList<>(rows.subList(from, Math.min(rows.size(), from + window)));
            w.sort((x, y) -> Integer.compare(x.query().length + x.answer().length, y.query().length + y.answer().length));
            for (int i = 0; i < w.size(); i += b) {
                batches.add(w.subList(i, Math.min(w.size(), i + b)));
            }
        }
        Collections.shuffle(batches, r);
        return batches;
    }

    /**
     * Forward pass of a batch and its answer-token loss (mean over answer tokens), owned by {@code step}.
     */
    NDArray loss(NDManager step, List<Row> batch) {
        int b = batch.size();
        int t = 0;
        int n = 0;
        for (Row row : batch) {
            t = Math.max(t, row.query().length + row.answer().length);
            n += row.answer().length;
        }
        long[][] tokens = new long[b][t];
        long[] at = new long[n];
        long[] target = new long[n];
        int k = 0;
        for (int i = 0; i < b; i++) {
            Row row = batch.get(i);
            int len = row.query().length + row.answer().length;
            java.util.Arrays.fill(tokens[i], -1);
            System.arraycopy(row.query(), 0, tokens[i], t - len, row.query().length);
            System.arraycopy(row.answer(), 0, tokens[i], t - row.answer().length, row.answer().length);
            for (int j = 0; j < row.answer().length; j++) {
                int col = t - row.answer().length + j;
                at[k] = (long) i * t + col - 1; // the position that predicts this token
                target[k++] = row.answer()[j];
            }
        }
        KvCache pc = lm.newCache(step, 1);
        lm.hiddenStates(step, new long[][] {prefix}, pc);
        KvCache cache = pc.expand(step, b);
        NDArray h = lm.hiddenStates(step, tokens, cache);
        NDArray picked = h.reshape(-1, spec.hidden()).get(new NDIndex("{}", step.create(at)));
        NDArray logp = lm.logits(picked).logSoftmax(-1);
        NDArray nll = logp.gather(step.create(target).reshape(n, 1), 1).neg();
        return nll.mean();
    }

    /** Learning rate at step s of total: linear warm-up, then cosine down to minLrFraction of the peak. */
    float learningRate(int s, int total) {
        int warm = Math.max(1, Math.round(total * opt.warmupFraction()));
        if (s < warm) {
            return opt.peakLr() * (s + 1) / warm;
        }
        double p = (double) (s - warm) / Math.max(1, total - warm);
        double f = opt.minLrFraction() + (1 - opt.minLrFraction()) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, p)));
        return (float) (opt.peakLr() * f);
    }

    /** One optimisation step; returns the batch loss. Throws on a non-finite loss or gradient. */
    float step(List<Row> batch, float lr) {
        float lossValue;
        try (NDManager step = root.newSubManager()) {
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray loss = loss(step, batch);
                lossValue = loss.getFloat();
                if (!Float.isFinite(lossValue)) {
                    throw new IllegalStateException("training loss is " + lossValue + " at Adam step " + (adamStep + 1)
                            + ": stopping (a non-finite loss must never pass)");
                }
                gc.backward(loss);
            }
            try {
                adam(step, lr);
            } catch (NonFiniteGradient e) {
                if (Boolean.getBoolean("demo.nanDebug")) {
                    debugRows(batch);
                }
                // No weight was touched (the check runs before any update). A rare non-finite gradient with a
                // finite loss is skipped, loudly, at most maxSkippedSteps times; more, and training stops.
                zeroGradients();
                skipped.add(adamStep);
                adamStep--;
                if (skipped.size() > opt.maxSkippedSteps()) {
                    throw new IllegalStateException(e.getMessage() + "; " + skipped.size()
                            + " steps with non-finite gradients so far (at " + skipped + "): stopping", e);
                }
                System.err.println("WARNING: " + e.getMessage() + ": step skipped (" + skipped.size() + " of at most "
                        + opt.maxSkippedSteps() + ")");
            }
        }
        return lossValue;
    }

    /** A gradient with a NaN or infinity (the loss was finite). */
    static final class NonFiniteGradient extends IllegalStateException {
        NonFiniteGradient(String m) {
            super(m);
        }
    }

    private void zeroGradients() {
        for (NDArray w : weights.values()) {
            clearGradient(w);
        }
    }

    /**
     * Sets the accumulated gradient to exactly zero (libtorch zero_: unlike multiplying by 0, it also clears a NaN
     * or an infinity, which would otherwise stay in the buffer for every later step).
     */
    private static void clearGradient(NDArray w) {
        ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) w);
    }

    /** Adam steps whose gradient was non-finite and skipped. */
    public List<Integer> skippedSteps() {
        return List.copyOf(skipped);
    }

    /** Throws unless every weight is finite (checked before a checkpoint is written). */
    void checkFiniteWeights() {
        for (Map.Entry<String, NDArray> e : weights.entrySet()) {
            try (NDManager tmp = root.newSubManager()) {
                NDArray w = e.getValue();
                double s = w.toType(DataType.FLOAT64, false).sum().getDouble();
                if (!Double.isFinite(s)) {
                    throw new IllegalStateException("weight " + e.getKey() + " is not finite: refusing to save");
                }
            }
        }
    }

    /** Which rows of a batch alone give a non-finite gradient (diagnostics, -Ddemo.nanDebug=true). */
    private void debugRows(List<Row> batch) {
        for (NDArray w : weights.values()) {
            clearGradient(w);
        }
        int t = batch.stream().mapToInt(r -> r.query().length + r.answer().length).max().orElse(0);
        System.err.println("batch of " + batch.size() + " rows, width " + t);
        for (int i = 0; i < batch.size(); i++) {
            Row r = batch.get(i);
            double sq = 0;
            try (NDManager step = root.newSubManager()) {
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    gc.backward(loss(step, List.of(r)));
                }
                for (NDArray w : weights.values()) {
                    NDArray g = w.getGradient();
                    sq += g.toType(DataType.FLOAT64, false).square().sum().getDouble();
                    g.close();
                    clearGradient(w);
                }
            }
            System.err.printf("row %d len %d+%d grad-norm %.3e text: %s%n", i, r.query().length, r.answer().length,
                    Math.sqrt(sq), tokenizer.decode(r.query(), false).replace('\n', ' '));
        }
    }

    /** Adam (β 0.9/0.98, ε 1e-8) with global-norm clipping, in place, outside the gradient recording. */
    private void adam(NDManager step, float lr) {
        adamStep++;
        Map<String, NDArray> grads = new LinkedHashMap<>();
        double sq = 0;
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : weights.entrySet()) {
            NDArray g = e.getValue().getGradient();
            g.attach(step);
            grads.put(e.getKey(), g);
            double s = g.toType(DataType.FLOAT64, false).square().sum().getDouble();
            if (!Double.isFinite(s)) {
                bad.add(e.getKey());
            }
            sq += s;
        }
        double norm = Math.sqrt(sq);
        if (!Double.isFinite(norm)) {
            throw new NonFiniteGradient("gradient norm is " + norm + " at Adam step " + adamStep
                    + " (non-finite in " + bad + ")");
        }
        float scale = norm > opt.clipNorm() ? (float) (opt.clipNorm() / norm) : 1f;
        float b1 = 0.9f;
        float b2 = 0.98f;
        double c1 = 1 - Math.pow(b1, adamStep);
        double c2 = 1 - Math.pow(b2, adamStep);
        float stepSize = (float) (lr * Math.sqrt(c2) / c1);
        for (Map.Entry<String, NDArray> e : weights.entrySet()) {
            NDArray w = e.getValue();
            NDArray g = grads.get(e.getKey()).mul(scale);
            NDArray[] mv = moments.computeIfAbsent(e.getKey(), k -> {
                NDArray m = w.zerosLike();
                NDArray v = w.zerosLike();
                m.attach(root);
                v.attach(root);
                return new NDArray[] {m, v};
            });
            // Results belong to their left operand's manager: root-owned temporaries move to the step's.
            mv[0].muli(b1).addi(g.mul(1 - b1));
            mv[1].muli(b2).addi(g.square().muli(1 - b2));
            NDArray denom = mv[1].sqrt();
            denom.attach(step);
            denom.addi(1e-8f);
            NDArray update = mv[0].div(denom);
            update.attach(step);
            w.subi(update.muli(stepSize));
            clearGradient(w);
        }
    }

    /** Mean answer-token cross-entropy over the examples (each with every annotator's answer), no gradients. */
    double evalLoss(List<Example> ex) {
        List<Row> rows = new ArrayList<>();
        for (Example e : ex) {
            for (List<String> a : e.annotators()) {
                rows.add(new Row(e.query(), a, answer(a)));
            }
        }
        rows.sort((x, y) -> Integer.compare(x.query().length, y.query().length));
        double sum = 0;
        long count = 0;
        for (int i = 0; i < rows.size(); i += opt.batchSize()) {
            List<Row> batch = rows.subList(i, Math.min(rows.size(), i + opt.batchSize()));
            int n = batch.stream().mapToInt(r -> r.answer().length).sum();
            try (NDManager step = root.newSubManager()) {
                sum += loss(step, batch).getFloat() * n;
            }
            count += n;
        }
        return sum / count;
    }

    /**
     * Trains for the configured epochs. {@code everyEpoch} runs after each epoch (with its 1-based number) for
     * evaluation; progress goes to {@code log}.
     */
    public List<Float> train(List<DemoData.Doc> docs, List<DemoData.Doc> dev, IntConsumer everyEpoch, PrintStream log) {
        List<Example> ex = examples(docs);
        List<Example> devEx = dev.isEmpty() ? List.of() : examples(dev);
        Random r = new Random(opt.seed());
        List<List<List<Row>>> plan = plan(ex, r);
        int epochs = plan.size();
        int total = plan.stream().mapToInt(List::size).sum();
        if (log != null) {
            long rows = plan.stream().flatMap(List::stream).mapToLong(List::size).sum();
            long multi = plan.stream().flatMap(List::stream).flatMap(List::stream)
                    .filter(row -> row.labels().size() >= 2).count();
            log.printf(Locale.ROOT, "%s: %d Adam steps over %s epochs, %d rows, %.2f %% with two or more labels%n",
                    task.name(), total, opt.epochs(), rows, 100.0 * multi / rows);
        }
        List<Float> losses = new ArrayList<>();
        long t0 = System.nanoTime();
        int done = 0;
        double ema = Double.NaN;
        for (int epoch = 1; epoch <= epochs; epoch++) {
            for (List<Row> batch : plan.get(epoch - 1)) {
                float lr = learningRate(done, total);
                float l = step(batch, lr);
                losses.add(l);
                done++;
                ema = Double.isNaN(ema) ? l : 0.98 * ema + 0.02 * l;
                if (log != null && (done % 10 == 0 || done == total)) {
                    double el = (System.nanoTime() - t0) / 1e9;
                    double eta = el / done * (total - done);
                    log.printf(Locale.ROOT, "\r%s epoch %d/%d %s %d/%d loss %.4f (avg %.4f) lr %.2e  %s elapsed, ETA %s   ",
                            task.name(), epoch, epochs, bar(done, total), done, total, l, ema, lr,
                            clock(el), clock(eta));
                    log.flush();
                }
            }
            if (log != null) {
                log.println();
                if (!devEx.isEmpty()) {
                    log.printf(Locale.ROOT, "%s epoch %d: dev answer-token loss %.4f%n", task.name(), epoch,
                            evalLoss(devEx));
                }
            }
            if (everyEpoch != null) {
                everyEpoch.accept(epoch);
            }
        }
        return losses;
    }

    /**
     * Every epoch's batches, drawn up front so the learning-rate schedule knows the number of steps (oversampling
     * makes an epoch's size random). A fractional last epoch keeps the first share of its (shuffled) batches.
     * Drawing in advance consumes {@code r} exactly as drawing epoch by epoch did.
     */
    List<List<List<Row>>> plan(List<Example> ex, Random r) {
        int epochs = (int) Math.ceil(opt.epochs() - 1e-9);
        double last = opt.epochs() - (epochs - 1);
        List<List<List<Row>>> plan = new ArrayList<>();
        for (int e = 1; e <= epochs; e++) {
            List<List<Row>> batches = epochBatches(ex, r);
            if (e == epochs && last < 1) {
                batches = batches.subList(0, Math.max(1, (int) Math.round(last * batches.size())));
            }
            plan.add(batches);
        }
        return plan;
    }

    static String bar(int done, int total) {
        int w = 24;
        int f = (int) Math.round((double) w * done / total);
        return "[" + "#".repeat(f) + ".".repeat(w - f) + "]";
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    /** Writes the Hugging Face files of the current weights (tokenizer files are the caller's). */
    public void save(Path dir) throws IOException {
        checkFiniteWeights();
        Checkpoint.write(dir, spec, weights);
    }

    @Override
    public void close() {
        tokenizer.close();
        root.close();
    }
}
