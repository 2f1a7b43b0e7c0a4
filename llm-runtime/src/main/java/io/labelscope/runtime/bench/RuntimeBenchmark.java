package io.labelscope.runtime.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.decode.GreedyDecoder;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.model.KvCache;
import io.labelscope.runtime.task.Demo;
import io.labelscope.runtime.task.LabelSpace;
import io.labelscope.runtime.task.OutputFormat;
import io.labelscope.runtime.task.PromptRenderer;
import io.labelscope.runtime.task.TaskDefinition;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Runtime benchmark on a random ~110M-parameter Llama (written to a temp dir, deleted after): prefill and decode
 * throughput at batch 1/8/32, KV cache vs recompute, shared-prefix reuse vs none, label-step capture overhead,
 * and libtorch's matmul GFLOP/s. Writes a Markdown report.
 *
 * <p>{@code java -cp ... io.labelscope.runtime.bench.RuntimeBenchmark [--out docs/benchmarks-runtime.md] [--small]}
 */
public final class RuntimeBenchmark {

    private final StringBuilder md = new StringBuilder();
    private final LlmModel model;
    private final Random rnd = new Random(1);
    private Path checkpoint;
    private int threads;
    /** Filled by the parts that measure them; the summary rows relate them. */
    private double matmulPeakGflops = Double.NaN;
    private double readBandwidthGbs = Double.NaN;
    private double decodeB1StepSeconds = Double.NaN;
    private double decodeB32StepSeconds = Double.NaN;

    private RuntimeBenchmark(LlmModel model) {
        this.model = model;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("docs/benchmarks-runtime.md");
        boolean small = false;
        int threads = 0;
        Path keep = null;
        java.util.Set<String> parts = java.util.Set.of("prefill", "decode", "kv", "prefix", "capture", "captureops",
                "matmul", "roofline", "ops", "context", "tenshot", "jlama", "cpu");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--small" -> small = true;
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--keep" -> keep = Path.of(args[++i]);
                case "--parts" -> parts = java.util.Set.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (use --out FILE, --threads N, --small, --keep DIR)");
            }
        }
        RandomCheckpoint.Sizes sizes = small
                ? new RandomCheckpoint.Sizes(512, 64, 128, 2, 4, 2, true)
                : new RandomCheckpoint.Sizes(32000, 768, 2048, 12, 12, 12, true);
        Path dir = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("labelscope-bench");
        try {
            long t0 = System.nanoTime();
            if (!Files.exists(dir.resolve("model.safetensors"))) {
                RandomCheckpoint.write(dir, sizes, 7);
            }
            long written = System.nanoTime();
            RuntimeConfig rc = new RuntimeConfig("cpu", RuntimeConfig.ComputeType.F32, 32, threads);
            try (LlmModel m = LlmModel.load(dir, rc)) {
                long loaded = System.nanoTime();
                RuntimeBenchmark b = new RuntimeBenchmark(m);
                b.checkpoint = dir;
                b.threads = threads;
                b.header(sizes, (written - t0) / 1e9, (loaded - written) / 1e9, threads);
                b.md.append("| load average at start (1/5/15 min) | ").append(loadAverage()).append(" |\n");
                b.run(parts);
                b.md.append("\nLoad average at the end: ").append(loadAverage())
                        .append(" (other builds share these 2 cores; numbers are noisy).\n");
                Files.createDirectories(out.toAbsolutePath().getParent());
                Files.writeString(out, b.md.toString());
                System.out.println(b.md);
            }
        } finally {
            if (keep != null) {
                return;
            }
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private void header(RandomCheckpoint.Sizes s, double writeS, double loadS, int threads) {
        md.append("# LLM runtime benchmarks\n\n");
        md.append("Date: ").append(LocalDate.now()).append(". Machine: 2-core x86 CPU box (")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores visible to the JVM), libtorch 2.7.1 CPU ")
                .append("via DJL 0.36.0, F32, ").append(threads == 0 ? "libtorch default threads" : threads + " intra-op thread(s)")
                .append(", Java ").append(Runtime.version()).append(".\n\n");
        md.append("Model: random Llama, ").append(String.format("%.1fM", s.parameters() / 1e6)).append(" parameters ")
                .append("(vocab ").append(s.vocab()).append(", hidden ").append(s.hidden()).append(", intermediate ")
                .append(s.inter()).append(", ").append(s.layers()).append(" layers, ").append(s.heads())
                .append(" heads, ").append(s.kvHeads()).append(" KV heads, tied embeddings). Checkpoint written in ")
                .append(String.format("%.1f s, loaded in %.1f s.%n%n", writeS, loadS));
        md.append("Command:\n\n```\nmvn -o -q -f llm-runtime/pom.xml compile dependency:build-classpath ")
                .append("-Dmdep.outputFile=target/cp.txt\nDJL_OFFLINE=true java -cp \"llm-runtime/target/classes:$(cat llm-runtime/target/cp.txt)\" ")
                .append("io.labelscope.runtime.bench.RuntimeBenchmark --out docs/benchmarks-runtime.md [--threads N]\n```\n\n");
        md.append("| measurement | value |\n|---|---|\n");
    }

    /** The 1/5/15-minute load averages, recorded beside every benchmark number (the machines are shared). */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (IOException e) {
            return "n/a";
        }
    }

    void row(String name, String value) {
        md.append("| ").append(name).append(" | ").append(value).append(" |\n");
        System.out.println(name + ": " + value);
    }

    long[] randomIds(int n) {
        long[] a = new long[n];
        a[0] = 0;
        for (int i = 1; i < n; i++) {
            a[i] = 3 + rnd.nextInt(256);
        }
        return a;
    }

    /** Median seconds of {@code reps} runs after one warm-up. */
    static double time(int reps, Runnable r) {
        r.run();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long s = System.nanoTime();
            r.run();
            t[i] = (System.nanoTime() - s) / 1e9;
        }
        java.util.Arrays.sort(t);
        return t[reps / 2];
    }

    private void run(java.util.Set<String> parts) {
        int reps = 3;
        // Prefill: one sequence of 128 tokens.
        int promptLen = 128;
        if (parts.contains("prefill")) {
        long[][] prompt = {randomIds(promptLen)};
        double prefill = time(reps, () -> {
            try (KvCache c = model.lm().newCache(model.manager(), 1);
                 NDManager step = model.manager().newSubManager()) {
                model.lm().forward(step, prompt, c, true).toFloatArray();
            }
        });
        row("prefill, batch 1, 128-token prompt", String.format("%.0f tok/s (%.0f ms)", promptLen / prefill, prefill * 1e3));
        }

        // Decode throughput with the KV cache: 32-token prompts, 32 new tokens, batch 1/8/32.
        int newTokens = 32;
        for (int batch : parts.contains("decode") ? new int[] {1, 8, 32} : new int[0]) {
            double s = decodeSeconds(batch, 32, newTokens, false);
            if (batch == 1) {
                decodeB1StepSeconds = s / newTokens;
            } else if (batch == 32) {
                decodeB32StepSeconds = s / newTokens;
            }
            row("decode, batch " + batch + " (KV cache, 32 new tokens after 32-token prompts)",
                    String.format("%.1f tok/s (%.1f ms/step)", batch * newTokens / s, s / newTokens * 1e3));
        }
        if (parts.contains("kv")) {
        double cached = decodeSeconds(1, 32, newTokens, false);
        double recompute = decodeSeconds(1, 32, newTokens, true);
        row("KV cache vs recompute, batch 1, 32 new tokens", String.format("%.2f s vs %.2f s (%.1fx)", cached,
                recompute, recompute / cached));
        }

        // Shared prefix: a 4-demo GoEmotions-style prompt, 8 documents, 8 new tokens.
        List<String> labels = List.of("joy", "optimism", "admiration", "surprise", "fear", "sadness", "anger");
        List<Demo> pool = List.of(new Demo("What a lovely surprise, thank you so much!", List.of("joy", "surprise")),
                new Demo("I can't believe they did that again.", List.of("anger")),
                new Demo("Things will get better, I'm sure of it.", List.of("optimism")),
                new Demo("That was terrifying and sad.", List.of("fear", "sadness")));
        TaskDefinition task = TaskDefinition.defaults("bench", labels, pool, 4, 1).withMaxNewTokens(8);
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            docs.add("Document number " + i + " says something mildly happy.");
        }
        if (parts.contains("prefix")) {
        double withPrefix;
        double withoutPrefix;
        int prefixTokens;
        try (LabelDecoder reuse = new LabelDecoder(model, task, true);
             LabelDecoder none = new LabelDecoder(model, task, false)) {
            prefixTokens = model.encode(reuse.renderer().prefix(), true).length;
            withPrefix = time(reps, () -> reuse.classify(docs));
            withoutPrefix = time(reps, () -> none.classify(docs));
        }
        row("shared-prefix reuse vs none (" + prefixTokens + "-token prefix, 8 docs, <=8 new tokens)",
                String.format("%.2f s vs %.2f s (%.1fx)", withPrefix, withoutPrefix, withoutPrefix / withPrefix));
        }

        // Capture overhead: identical forced answers with and without label-step capture, batch 8, after a
        // cached shared prefix (so the time is decoding, not prefill).
        if (parts.contains("capture")) {
            PromptRenderer r = new PromptRenderer(task);
            LabelSpace space = new LabelSpace(model, r);
            GreedyDecoder dec = new GreedyDecoder(model);
            String answer = "\n{\"label\": [\"joy\", \"surprise\", \"fear\", \"anger\", \"joy\", \"sadness\"]}";
            List<long[]> prompts = new ArrayList<>();
            List<long[]> forced = new ArrayList<>();
            for (String d : docs) {
                prompts.add(model.encode(r.query(d), false));
                forced.add(model.encode(answer, false));
            }
            GreedyDecoder.Options opt = new GreedyDecoder.Options(forced.get(0).length, "Input:", false);
            GreedyDecoder.Capture cap = new GreedyDecoder.Capture(space, OutputFormat.JSON_LIST, false);
            try (GreedyDecoder.Prefix prefix = dec.prefill(model.encode(r.prefix(), true))) {
                int stepsPerDoc = dec.decode(prefix, prompts.subList(0, 1), forced.subList(0, 1), opt, cap).get(0)
                        .steps().size();
                double plain = 0;
                double captured = 0;
                for (int i = 0; i < 3; i++) {
                    plain += time(1, () -> dec.decode(prefix, prompts, forced, opt, null));
                    captured += time(1, () -> dec.decode(prefix, prompts, forced, opt, cap));
                }
                row("label-step capture vs plain greedy (batch 8, " + forced.get(0).length + " tokens after a cached "
                        + "prefix, " + stepsPerDoc + " steps/doc, sum of 3 runs)", String.format(
                        "%.2f s vs %.2f s (overhead %+.1f%%)", captured, plain, (captured / plain - 1) * 100));
            }
        }

        // Capture cost in isolation: the per-step work capture adds (gather |L|+1 x variants logits on the device,
        // max-reduce, copy |L|+1 floats per row to Java), against one decode step at the same batch size. Less
        // sensitive to machine load than the end-to-end comparison above.
        if (parts.contains("captureops")) {
            LabelSpace space = new LabelSpace(model, new PromptRenderer(task));
            int batch = 8;
            int vocab = model.config().vocabSize();
            int labelsPlusNone = space.names().size();
            int w = space.width();
            double perCapture;
            try (NDManager m = model.manager().newSubManager()) {
                NDArray logits = m.randomNormal(new Shape(batch, vocab));
                NDArray gather = m.create(space.gatherIndex());
                int iters = 500;
                Runnable capture = () -> {
                    try (NDManager t = m.newSubManager()) {
                        NDArray g = logits.get(new ai.djl.ndarray.index.NDIndex(":, {}", gather));
                        g.attach(t);
                        g.reshape(batch, labelsPlusNone, w).max(new int[] {2}).toFloatArray();
                    }
                };
                perCapture = time(3, () -> {
                    for (int i = 0; i < iters; i++) {
                        capture.run();
                    }
                }) / iters;
            }
            double step = decodeSeconds(batch, 32, 8, false) / 8;
            row("capture work per captured step vs one decode step (batch " + batch + ", " + labelsPlusNone
                    + " labels x " + w + " variant tokens)", String.format("%.0f us vs %.1f ms (%.2f%% of a step)",
                    perCapture * 1e6, step * 1e3, perCapture / step * 100));
        }

        // libtorch matmul peak.
        if (!parts.contains("matmul")) {
            runLimitParts(parts);
            return;
        }
        double best = 0;
        String bestAt = "";
        try (NDManager m = model.manager().newSubManager()) {
            for (int n : new int[] {256, 512, 1024, 2048}) {
                NDArray a = m.randomNormal(new Shape(n, n));
                NDArray b = m.randomNormal(new Shape(n, n));
                int it = n >= 2048 ? 3 : 10;
                double s = time(it, () -> {
                    try (NDManager t = m.newSubManager()) {
                        NDArray c = a.matMul(b);
                        c.attach(t);
                        c.getFloat(0, 0);
                    }
                });
                double gflops = 2.0 * n * n * n / s / 1e9;
                if (gflops > best) {
                    best = gflops;
                    bestAt = n + "x" + n;
                }
            }
        }
        row("libtorch F32 matmul peak", String.format("%.1f GFLOP/s (%s)", best, bestAt));
        matmulPeakGflops = best;
        runLimitParts(parts);
    }

    /** Seconds for {@code newTokens} greedy steps of {@code batch} rows after a prompt of {@code promptLen}. */
    double decodeSeconds(int batch, int promptLen, int newTokens, boolean recompute) {
        long[][] prompt = new long[batch][];
        for (int i = 0; i < batch; i++) {
            prompt[i] = randomIds(promptLen);
        }
        Supplier<Double> run = () -> {
            long[][] full = prompt;
            KvCache c = model.lm().newCache(model.manager(), batch);
            NDManager step = model.manager().newSubManager();
            try {
                NDArray logits = model.lm().forward(step, prompt, c, true);
                long start = System.nanoTime();
                for (int t = 0; t < newTokens; t++) {
                    long[] next = logits.argMax(-1).toLongArray();
                    long[][] feed = new long[batch][1];
                    for (int i = 0; i < batch; i++) {
                        feed[i][0] = next[i];
                    }
                    NDManager nxt = model.manager().newSubManager();
                    if (recompute) {
                        long[][] f2 = new long[batch][];
                        for (int i = 0; i < batch; i++) {
                            f2[i] = java.util.Arrays.copyOf(full[i], full[i].length + 1);
                            f2[i][full[i].length] = next[i];
                        }
                        full = f2;
                        c.close();
                        c = model.lm().newCache(model.manager(), batch);
                        logits = model.lm().forward(nxt, full, c, true);
                    } else {
                        logits = model.lm().forward(nxt, feed, c, true);
                    }
                    step.close();
                    step = nxt;
                }
                logits.argMax(-1).toLongArray();
                return (System.nanoTime() - start) / 1e9;
            } finally {
                step.close();
                c.close();
            }
        };
        run.get();
        return run.get();
    }

    /**
     * The rows that relate decoding to this machine's limits and to Jlama (issue #19), each measured in this run:
     * read bandwidth, libtorch calls per decode step, decode step cost against context length, 10-shot prefill with
     * and without the shared-prefix cache, batch-1 decode against Jlama in alternating rounds, then the ratios.
     */
    private void runLimitParts(java.util.Set<String> parts) {
        if (parts.contains("roofline")) {
            roofline();
        }
        if (parts.contains("ops")) {
            opsPerDecodeStep(1);
            opsPerDecodeStep(32);
        }
        if (parts.contains("context")) {
            contextGrowth();
        }
        if (parts.contains("tenshot")) {
            tenShotPrefill();
        }
        if (parts.contains("jlama")) {
            jlamaSideBySide();
        }
        if (parts.contains("cpu")) {
            cpuTimeRatios();
        }
        if (!Double.isNaN(readBandwidthGbs) && !Double.isNaN(decodeB1StepSeconds)) {
            double roof = decodeWeightBytes() / (readBandwidthGbs * 1e9);
            row("batch-1 decode vs the read-bandwidth roofline (target >= 70%)", String.format(
                    "%.1f ms/step vs %.1f ms/step roofline = %.0f%%", decodeB1StepSeconds * 1e3, roof * 1e3,
                    roof / decodeB1StepSeconds * 100));
        }
        if (!Double.isNaN(matmulPeakGflops) && !Double.isNaN(decodeB32StepSeconds)) {
            // Weight matmuls of 32 rows (attention over a ~48-slot context adds < 1 %).
            double flops = 2.0 * matmulParameters() * 32;
            double limit = flops / (matmulPeakGflops * 1e9);
            row("batch-32 decode vs the matmul-bound limit (target >= 0.6)", String.format(
                    "%.1f ms/step vs %.1f ms/step at %.1f GFLOP/s = %.2f", decodeB32StepSeconds * 1e3, limit * 1e3,
                    matmulPeakGflops, limit / decodeB32StepSeconds));
        }
    }

    private long decodeWeightBytes() {
        long bytes = 0;
        for (NDArray a : model.lm().decodeWeights()) {
            bytes += a.getShape().size() * a.getDataType().getNumOfBytes();
        }
        return bytes;
    }

    private long matmulParameters() {
        long n = 0;
        for (NDArray a : model.lm().decodeWeights()) {
            if (a.getShape().dimension() == 2) {
                n += a.getShape().size();
            }
        }
        return n;
    }

    /** Read bandwidth as libtorch sees it: one sum() over every array a decode step reads. */
    private void roofline() {
        List<NDArray> weights = model.lm().decodeWeights();
        double s = time(5, () -> {
            try (NDManager t = model.manager().newSubManager()) {
                for (NDArray a : weights) {
                    NDArray sum = a.sum();
                    sum.attach(t);
                }
            }
        });
        long bytes = decodeWeightBytes();
        readBandwidthGbs = bytes / s / 1e9;
        row("read bandwidth: sum() over the " + String.format("%.0f MB", bytes / 1e6) + " a decode step reads",
                String.format("%.1f GB/s (%.1f ms per pass = batch-1 decode roofline)", readBandwidthGbs, s * 1e3));
    }

    /**
     * libtorch calls of one warm batch-1 decode step, counted by libtorch's own profiler: top-level operators only
     * (those not inside another, e.g. aten::linear but not the aten::t and aten::addmm it calls), which is what the
     * forward pass issues through DJL's JNI. Also lists where the step's time goes, per operator name.
     */
    private void opsPerDecodeStep(int batch) {
        int layers = model.config().numLayers();
        long[][] prompt = new long[batch][];
        for (int i = 0; i < batch; i++) {
            prompt[i] = randomIds(32);
        }
        long[][] feed = new long[batch][1];
        try (KvCache c = model.lm().newCache(model.manager(), batch)) {
            c.reserve(64);
            try (NDManager st = model.manager().newSubManager()) {
                long[] next = model.lm().forward(st, prompt, c, true).argMax(-1).toLongArray();
                for (int i = 0; i < batch; i++) {
                    feed[i][0] = next[i];
                }
            }
            for (int warm = 0; warm < 3; warm++) {
                try (NDManager st = model.manager().newSubManager()) {
                    model.lm().forward(st, feed, c, true).argMax(-1).toLongArray();
                }
            }
            Path trace = Files.createTempFile("labelscope-profile", ".json");
            try {
                ai.djl.pytorch.jni.JniUtils.startProfile(false, false, false);
                try (NDManager st = model.manager().newSubManager()) {
                    model.lm().forward(st, feed, c, true).argMax(-1).toLongArray();
                } finally {
                    ai.djl.pytorch.jni.JniUtils.stopProfile(trace.toString());
                }
                TopLevelOps ops = TopLevelOps.read(trace);
                if (batch == 1) {
                    row("libtorch calls per batch-1 decode step (profiler, top-level operators; target <= 25 per layer)",
                        String.format("%d per step = %.1f per layer (%d layers; includes the embedding, final norm, "
                                + "vocabulary projection and mask set-up once per step)", ops.total(),
                                ops.total() / (double) layers, layers));
                }
                row("where a batch-" + batch + " decode step's time goes (top-level operator: calls, share of "
                        + "operator time)", ops.summary(10));
            } finally {
                Files.deleteIfExists(trace);
            }
        } catch (IOException e) {
            row("libtorch calls per decode step", "not measured: " + e);
        }
    }

    /** Decode step time at batch 1 after a context of 128, 512 and 2,048 tokens (median of 16 steps). */
    private void contextGrowth() {
        int steps = 16;
        double first = Double.NaN;
        StringBuilder sb = new StringBuilder();
        for (int ctx : new int[] {128, 512, 2048}) {
            double[] t = new double[steps];
            try (KvCache c = model.lm().newCache(model.manager(), 1)) {
                c.reserve(ctx + steps + 1);
                long[] next;
                try (NDManager st = model.manager().newSubManager()) {
                    next = model.lm().forward(st, new long[][] {randomIds(ctx)}, c, true).argMax(-1).toLongArray();
                }
                for (int i = 0; i < steps; i++) {
                    long s0 = System.nanoTime();
                    try (NDManager st = model.manager().newSubManager()) {
                        next = model.lm().forward(st, new long[][] {{next[0]}}, c, true).argMax(-1).toLongArray();
                    }
                    t[i] = (System.nanoTime() - s0) / 1e9;
                }
            }
            java.util.Arrays.sort(t);
            double median = t[steps / 2];
            if (Double.isNaN(first)) {
                first = median;
            }
            sb.append(sb.length() == 0 ? "" : ", ").append(String.format("%d: %.1f ms", ctx, median * 1e3));
            if (ctx == 2048) {
                sb.append(String.format(" (2,048 / 128 = %.2fx)", median / first));
            }
        }
        row("batch-1 decode step at context 128 / 512 / 2,048 (median of 16 steps; target 2,048 <= 1.5x 128)",
                sb.toString());
    }

    /** Prefill of one document's 10-shot prompt: the whole prompt, or its query after a cached prefix. */
    private void tenShotPrefill() {
        List<String> labels = List.of("joy", "optimism", "admiration", "surprise", "fear", "sadness", "anger");
        List<Demo> pool = new ArrayList<>();
        String[] texts = {"What a lovely surprise, thank you so much!", "I can't believe they did that again.",
            "Things will get better, I'm sure of it.", "That was terrifying and sad.", "You did an amazing job here.",
            "Wow, I did not see that coming at all.", "I miss her every single day.", "This makes me so angry.",
            "We will win next time, I know it.", "Such a brave and kind thing to do.", "The noise at night scares me."};
        String[][] gold = {{"joy", "surprise"}, {"anger"}, {"optimism"}, {"fear", "sadness"}, {"admiration"},
            {"surprise"}, {"sadness"}, {"anger"}, {"optimism"}, {"admiration"}, {"fear"}};
        for (int i = 0; i < texts.length; i++) {
            pool.add(new Demo(texts[i], List.of(gold[i])));
        }
        PromptRenderer r = new PromptRenderer(TaskDefinition.defaults("bench10", labels, pool, 10, 1));
        long[] prefix = model.encode(r.prefix(), true);
        long[] query = model.encode(r.query("Document number 3 says something mildly happy."), false);
        long[] whole = java.util.Arrays.copyOf(prefix, prefix.length + query.length);
        System.arraycopy(query, 0, whole, prefix.length, query.length);
        double without = time(3, () -> {
            try (KvCache c = model.lm().newCache(model.manager(), 1);
                 NDManager st = model.manager().newSubManager()) {
                model.lm().forward(st, new long[][] {whole}, c, true).toFloatArray();
            }
        });
        try (KvCache shared = model.lm().newCache(model.manager(), 1)) {
            long s0 = System.nanoTime();
            try (NDManager st = model.manager().newSubManager()) {
                model.lm().hiddenStates(st, new long[][] {prefix}, shared);
            }
            double once = (System.nanoTime() - s0) / 1e9;
            double with = time(3, () -> {
                try (KvCache c = shared.expand(model.manager(), 1, query.length + 8);
                     NDManager st = model.manager().newSubManager()) {
                    model.lm().forward(st, new long[][] {query}, c, true).toFloatArray();
                }
            });
            row("prefill of a 10-shot prompt (" + prefix.length + "-token prefix + " + query.length
                    + "-token query), batch 1: whole prompt vs query after the shared-prefix cache",
                    String.format("%.0f ms vs %.0f ms (%.1fx; the prefix itself once: %.0f ms)", without * 1e3,
                            with * 1e3, without / with, once * 1e3));
        }
    }

    /** Batch-1 decode (32-token prompt, 32 new tokens) here and in Jlama, alternating, three rounds. */
    private void jlamaSideBySide() {
        java.util.Optional<Path> java = JlamaRunner.java21();
        if (java.isEmpty() || JlamaRunner.peerSource().isEmpty() || checkpoint == null) {
            row("batch-1 decode vs Jlama 0.8.4", "not run: " + (java.isEmpty() ? "no Java 21+ runtime"
                    : "JlamaPeer.java not found (run from the repository root)"));
            return;
        }
        int[] tokens = new int[32];
        for (int i = 1; i < tokens.length; i++) {
            tokens[i] = 3 + rnd.nextInt(256);
        }
        StringBuilder sb = new StringBuilder();
        double lo = Double.MAX_VALUE;
        double hi = 0;
        try {
            Path logits = Files.createTempFile("labelscope-jlama", ".bin");
            try {
                for (int round = 1; round <= 3; round++) {
                    double ours = 32 / decodeSeconds(1, 32, 32, false);
                    JlamaRunner.Result peer = JlamaRunner.run(java.get(), checkpoint, tokens, Math.max(1, threads), 32,
                            logits);
                    double ratio = ours / peer.decodeTokensPerSecond();
                    lo = Math.min(lo, ratio);
                    hi = Math.max(hi, ratio);
                    sb.append(String.format("%sround %d: %.1f vs %.1f tok/s (%.2fx)", round == 1 ? "" : "; ", round,
                            ours, peer.decodeTokensPerSecond(), ratio));
                    System.out.println("jlama round " + round + ": " + sb);
                }
            } finally {
                Files.deleteIfExists(logits);
            }
        } catch (Exception e) {
            row("batch-1 decode vs Jlama 0.8.4", "failed: " + e.getMessage());
            return;
        }
        row("batch-1 decode, labelscope vs Jlama 0.8.4, alternating (" + Math.max(1, threads)
                + " thread(s) each; target >= 1.3x)", sb + String.format(" = %.2f-%.2fx", lo, hi));
    }

    /**
     * The roofline ratios again in this thread's CPU time instead of wall time. With one intra-op thread libtorch
     * runs every operator on the calling thread, so CPU time leaves out the time the scheduler gives to other
     * processes: on a shared, overloaded box it is the one measure of the work itself (wall time can only be
     * longer). Medians of five: a sum() pass over the decode weights, a 256x256 and a 512x512 matmul, one batch-1
     * and one batch-32 decode step after 32-token prompts.
     */
    private void cpuTimeRatios() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        java.util.function.ToDoubleFunction<Runnable> cpu = r -> {
            r.run();
            double[] t = new double[5];
            for (int i = 0; i < t.length; i++) {
                long c0 = mx.getCurrentThreadCpuTime();
                r.run();
                t[i] = (mx.getCurrentThreadCpuTime() - c0) / 1e9;
            }
            java.util.Arrays.sort(t);
            return t[2];
        };
        List<NDArray> weights = model.lm().decodeWeights();
        double sumPass = cpu.applyAsDouble(() -> {
            try (NDManager t = model.manager().newSubManager()) {
                for (NDArray a : weights) {
                    NDArray x = a.sum();
                    x.attach(t);
                }
            }
        });
        double peak = 0;
        try (NDManager m = model.manager().newSubManager()) {
            for (int n : new int[] {256, 512}) {
                NDArray a = m.randomNormal(new Shape(n, n));
                NDArray b = m.randomNormal(new Shape(n, n));
                double sec = cpu.applyAsDouble(() -> {
                    try (NDManager t = m.newSubManager()) {
                        NDArray c = a.matMul(b);
                        c.attach(t);
                    }
                });
                peak = Math.max(peak, 2.0 * n * n * n / sec / 1e9);
            }
        }
        double[] step = new double[2];
        int[] batches = {1, 32};
        for (int k = 0; k < 2; k++) {
            int batch = batches[k];
            long[][] prompt = new long[batch][];
            for (int i = 0; i < batch; i++) {
                prompt[i] = randomIds(32);
            }
            long[][] feed = new long[batch][1];
            try (KvCache c = model.lm().newCache(model.manager(), batch)) {
                c.reserve(32 + 8);
                try (NDManager st = model.manager().newSubManager()) {
                    long[] next = model.lm().forward(st, prompt, c, true).argMax(-1).toLongArray();
                    for (int i = 0; i < batch; i++) {
                        feed[i][0] = next[i];
                    }
                }
                step[k] = cpu.applyAsDouble(() -> {
                    try (NDManager st = model.manager().newSubManager()) {
                        model.lm().forward(st, feed, c, true).argMax(-1).toLongArray();
                    }
                });
            }
        }
        double roof = sumPass;
        double limit = 2.0 * matmulParameters() * 32 / (peak * 1e9);
        row("in thread CPU time (load-independent): read bandwidth, batch-1 step vs roofline, batch-32 step vs "
                + "matmul-bound limit", String.format("%.1f GB/s; %.1f ms vs %.1f ms = %.0f%%; %.1f ms vs %.1f ms at "
                + "%.1f GFLOP/s = %.2f", decodeWeightBytes() / sumPass / 1e9, step[0] * 1e3, roof * 1e3,
                roof / step[0] * 100, step[1] * 1e3, limit * 1e3, peak, limit / step[1]));
    }
}
