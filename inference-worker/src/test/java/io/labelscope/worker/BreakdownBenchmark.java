package io.labelscope.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.labelscope.math.Alignment;
import io.labelscope.math.BinaryBreakdown;
import io.labelscope.math.Conventions;
import io.labelscope.math.DocumentAnalysis;
import io.labelscope.math.Method;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.bench.RuntimeBenchmark;
import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.decode.LabelStepRecord;
import io.labelscope.runtime.decode.ProbeScorer;
import io.labelscope.runtime.task.ProbePrompts;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import io.labelscope.runtime.task.TaskMethod;

/**
 * The breakdown benchmark (issue #8; a command, not a test): on the committed GoEmotions demo model and the authors'
 * 45-comment per-annotator set, the model time per document of generate, unary and binary (unary and binary with the
 * shared prefix, as the worker runs them, and as independent full prompts, the cost sharing avoids), then the
 * alignment with the annotators (SPEC §4 via paper-math's DocumentAnalysis) of max-over-generations,
 * compare-to-none, unary breakdown, binary breakdown and binary outcome. Writes a Markdown report.
 *
 * <pre>
 * ./labelscope bench breakdown [--rounds 5] [--threads 1] [--out docs/benchmarks-breakdown.md]
 * </pre>
 * (or, from inference-worker/: {@code java -cp target/test-classes:target/classes:<test class path>
 * io.labelscope.worker.BreakdownBenchmark}). Paths (--model, --task, --data, --out) are relative to the repository
 * root; run from a module directory, they resolve against its parent. Lives in the worker's test sources because the
 * command line deliberately has no model runtime on its class path, and the worker's tests have the runtime and
 * paper-math.
 */
public final class BreakdownBenchmark {

    /** One document of the per-annotator set. */
    record Doc(String id, String text, List<List<String>> annotators) {}

    /** What gets timed: a method over every document, in chunks of {@code batch} documents. */
    enum Variant {
        GENERATE("generate"), UNARY("unary (shared prefix)"), BINARY("binary (shared prefix)"),
        UNARY_NAIVE("unary (independent prompts)"), BINARY_NAIVE("binary (independent prompts)");

        final String label;

        Variant(String label) {
            this.label = label;
        }
    }

    private static final List<Method> METHODS = List.of(Method.MAX_OVER_GENERATIONS, Method.COMPARE_TO_NONE,
            Method.HARD_PREDICTIONS, Method.UNARY_BREAKDOWN, Method.BINARY_BREAKDOWN, Method.BINARY_OUTCOME);

    public static void main(String[] args) throws Exception {
        Path modelDir = inRepository("models/demo/goemotions");
        Path taskFile = inRepository("tasks/goemotions.json");
        Path data = inRepository("data/goemotions/goemotions_demos.csv");
        Path out = inRepository("docs/benchmarks-breakdown.md");
        int rounds = 5;
        int threads = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> modelDir = inRepository(args[++i]);
                case "--task" -> taskFile = inRepository(args[++i]);
                case "--data" -> data = inRepository(args[++i]);
                case "--out" -> out = inRepository(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (known: --model, --task, --data, --out, --rounds, --threads)");
            }
        }
        TaskDefinition base = TaskFiles.read(taskFile);
        TaskDefinition task = base.withBreakdown(base.breakdown()
                .withMethods(List.of(TaskMethod.GENERATE, TaskMethod.UNARY, TaskMethod.BINARY)));
        List<Doc> docs = annotatorSet(data);
        List<String> texts = docs.stream().map(Doc::text).toList();
        String loadBefore = RuntimeBenchmark.loadAverage();
        Instant started = Instant.now();

        StringBuilder md = new StringBuilder();
        try (LlmModel model = LlmModel.load(modelDir, new RuntimeConfig("cpu", RuntimeConfig.ComputeType.F32, 32,
                threads));
             LabelDecoder decoder = new LabelDecoder(model, task, true);
             ProbeScorer shared = new ProbeScorer(model, task, true);
             ProbeScorer naive = new ProbeScorer(model, task, false)) {
            // Timing: every variant over all documents per round, variants interleaved so that a burst of load from
            // the other users of the machine hits them alike; round 0 warms up and is dropped; medians reported.
            int[] batches = {16, 1};
            Map<Integer, Map<Variant, double[]>> perDocMs = new LinkedHashMap<>();
            for (int batch : batches) {
                Map<Variant, double[]> times = new EnumMap<>(Variant.class);
                for (Variant v : Variant.values()) {
                    times.put(v, new double[rounds]);
                }
                for (int r = -1; r < rounds; r++) {
                    for (Variant v : Variant.values()) {
                        long t0 = System.nanoTime();
                        for (int from = 0; from < texts.size(); from += batch) {
                            List<String> chunk = texts.subList(from, Math.min(texts.size(), from + batch));
                            switch (v) {
                                case GENERATE -> decoder.classify(chunk);
                                case UNARY -> shared.unary(chunk);
                                case BINARY -> shared.binary(chunk);
                                case UNARY_NAIVE -> naive.unary(chunk);
                                case BINARY_NAIVE -> naive.binary(chunk);
                            }
                        }
                        if (r >= 0) {
                            times.get(v)[r] = (System.nanoTime() - t0) / 1e6 / texts.size();
                        }
                    }
                    System.out.printf("batch %d round %d done%n", batch, r);
                }
                perDocMs.put(batch, times);
            }

            // Outputs for the alignment (deterministic: the same in every round).
            List<GenerationResult> gens = decoder.classify(texts);
            List<ProbeScorer.UnaryResult> unary = shared.unary(texts);
            List<ProbeScorer.BinaryResult> binary = shared.binary(texts);
            List<ProbeScorer.BinaryResult> binaryNaive = naive.binary(texts);
            double maxDiff = 0;
            for (int d = 0; d < docs.size(); d++) {
                for (int q = 0; q < binary.get(d).logitA().length; q++) {
                    maxDiff = Math.max(maxDiff, Math.abs(binary.get(d).logitA()[q] - binaryNaive.get(d).logitA()[q]));
                    maxDiff = Math.max(maxDiff, Math.abs(binary.get(d).logitB()[q] - binaryNaive.get(d).logitB()[q]));
                }
            }
            Conventions conv = Conventions.paper();
            Map<Method, double[]> sums = new EnumMap<>(Method.class);
            List<DocumentAnalysis.Report> reports = new ArrayList<>();
            int labels = task.labels().size();
            double genTokens = 0;
            double unaryTokens = 0;
            double binaryTokens = 0;
            double unaryNaiveTokens = 0;
            double binaryNaiveTokens = 0;
            for (int d = 0; d < docs.size(); d++) {
                GenerationResult g = gens.get(d);
                List<DocumentAnalysis.StepInput> steps = new ArrayList<>();
                for (LabelStepRecord s : g.steps()) {
                    steps.add(new DocumentAnalysis.StepInput(s.rawLogits(), s.generatedLabel()));
                }
                ProbeScorer.UnaryResult u = unary.get(d);
                // SPEC §3: p_l = σ(z_reasonable − z_unreasonable) over the labels; the none probe is recorded but
                // not part of the formula.
                DocumentAnalysis.UnaryInput ui = new DocumentAnalysis.UnaryInput(
                        Arrays.copyOf(u.reasonable(), labels), Arrays.copyOf(u.unreasonable(), labels));
                ProbeScorer.BinaryResult b = binary.get(d);
                List<BinaryBreakdown.PairLogits> pairs = new ArrayList<>();
                for (int q = 0; q < b.pairs().size(); q++) {
                    ProbePrompts.Pair p = b.pairs().get(q);
                    // Items are the labels then none, the index order paper-math expects (none = |L|).
                    pairs.add(new BinaryBreakdown.PairLogits(p.a(), p.b(), b.logitA()[q], b.logitB()[q]));
                }
                DocumentAnalysis.Report rep = DocumentAnalysis.analyse(new DocumentAnalysis.DocumentInput(
                        docs.get(d).id(), task.labels(), steps, g.parsedLabels(), docs.get(d).annotators(), null, ui,
                        pairs), conv);
                reports.add(rep);
                for (Method m : METHODS) {
                    Alignment.Scores s = rep.methods().get(m).scores();
                    double[] acc = sums.computeIfAbsent(m, k -> new double[5]);
                    acc[0] += s.nll();
                    acc[1] += s.l1();
                    acc[2] += s.exampleF1();
                    acc[3] += rep.methods().get(m).predictedLabels().isEmpty() ? 1 : 0;
                    acc[4] += rep.methods().get(m).predictedLabels().size();
                }
                genTokens += g.promptTokens() + g.generatedTokens();
                unaryTokens += u.promptTokens();
                binaryTokens += b.promptTokens();
                for (int i = 0; i < u.items().size(); i++) {
                    unaryNaiveTokens += naive.promptIds(TaskMethod.UNARY, docs.get(d).text(), i).length;
                }
                for (int q = 0; q < b.pairs().size(); q++) {
                    binaryNaiveTokens += naive.promptIds(TaskMethod.BINARY, docs.get(d).text(), q).length;
                }
            }
            int n = docs.size();

            md.append("# Breakdown methods: cost and alignment\n\n");
            md.append("Written by `io.labelscope.worker.BreakdownBenchmark` (").append(started).append(", ")
                    .append(Runtime.getRuntime().availableProcessors()).append(" CPUs visible, load average ")
                    .append(loadBefore).append(" before, ").append(RuntimeBenchmark.loadAverage()).append(" after; libtorch threads: ")
                    .append(threads).append(").\n\n");
            md.append("Command (repository root):\n\n```\n./labelscope bench breakdown [--rounds ").append(rounds)
                    .append("] [--threads ").append(threads).append("]\n```\n\n");
            md.append("Model `").append(modelDir).append("` (").append(model.config().numLayers())
                    .append("-layer Llama, hidden ").append(model.config().hiddenSize()).append("), task `")
                    .append(taskFile).append("` with methods generate, unary, binary (").append(labels)
                    .append(" labels: ").append(labels + 1).append(" unary and ").append(shared.prompts().pairs().size())
                    .append(" binary probes per document), the paper's breakdown prompts (zero-shot), ").append(n)
                    .append(" documents: the authors' GoEmotions per-annotator set `").append(data).append("`.\n\n");
            md.append("## Model time per document (ms, median of ").append(rounds)
                    .append(" rounds after one warm-up round)\n\n");
            md.append("| documents per call | generate | unary | binary | unary / generate | binary / generate "
                    + "| unary independent | binary independent | sharing gain unary | sharing gain binary |\n");
            md.append("|---|---|---|---|---|---|---|---|---|---|\n");
            for (int batch : batches) {
                Map<Variant, double[]> t = perDocMs.get(batch);
                double g = median(t.get(Variant.GENERATE));
                double u = median(t.get(Variant.UNARY));
                double b = median(t.get(Variant.BINARY));
                double un = median(t.get(Variant.UNARY_NAIVE));
                double bn = median(t.get(Variant.BINARY_NAIVE));
                md.append(String.format(Locale.ROOT,
                        "| %d | %.2f | %.2f | %.2f | %.2fx | %.2fx | %.2f | %.2f | %.1fx | %.1fx |%n",
                        batch, g, u, b, u / g, b / g, un, bn, un / u, bn / b));
            }
            md.append(String.format(Locale.ROOT, "%nSpread (min-max over rounds, batch 16, ms/doc): generate %s, "
                    + "unary %s, binary %s, unary independent %s, binary independent %s.%n%n",
                    range(perDocMs.get(16).get(Variant.GENERATE)), range(perDocMs.get(16).get(Variant.UNARY)),
                    range(perDocMs.get(16).get(Variant.BINARY)), range(perDocMs.get(16).get(Variant.UNARY_NAIVE)),
                    range(perDocMs.get(16).get(Variant.BINARY_NAIVE))));
            md.append(String.format(Locale.ROOT, "Tokens run through the model per document (mean): generate %.0f "
                    + "(prompt + generated; the instruction prefix is cached per task, so it is not recomputed), "
                    + "unary %.0f with the shared prefix vs %.0f as independent prompts, binary %.0f vs %.0f. Shared "
                    + "and independent binary logits agree to %.1e (max abs difference over all %d probes).%n%n",
                    genTokens / n, unaryTokens / n, unaryNaiveTokens / n, binaryTokens / n, binaryNaiveTokens / n,
                    maxDiff, n * shared.prompts().pairs().size()));
            md.append("## Alignment with the annotators (means over the ").append(n).append(" documents)\n\n");
            md.append("| method | NLL | L1 | example-F1 | documents with no predicted label | predicted labels "
                    + "per document |\n|---|---|---|---|---|---|\n");
            for (Method m : METHODS) {
                double[] s = sums.get(m);
                md.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.3f | %d | %.2f |%n", m.wireName(),
                        s[0] / n, s[1] / n, s[2] / n, (int) s[3], s[4] / n));
            }
            int noMajority = 0;
            for (DocumentAnalysis.Report r : reports) {
                noMajority += r.goldLabels() != null && r.goldLabels().isEmpty() ? 1 : 0;
            }
            md.append(String.format(Locale.ROOT, "%n%d of the %d documents have no label held by half of their "
                    + "annotators (their gold set is empty).%n", noMajority, n));
            md.append("\nThe demo model was trained only on the generate format (instruction + `Input:` + JSON "
                    + "answer list); it never saw a breakdown prompt, so its answers to them say little: the numbers "
                    + "above measure the machinery (and its cost), not what the breakdowns achieve with an "
                    + "instruction-following model as in the paper.\n");
            for (Method m : List.of(Method.UNARY_BREAKDOWN, Method.BINARY_BREAKDOWN)) {
                System.out.println(m.wireName() + " mean NLL " + sums.get(m)[0] / n);
            }
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(out, md.toString(), StandardCharsets.UTF_8);
        System.out.println(md);
        System.out.println("wrote " + out);
    }

    /** A path relative to the repository root, found from the root or from a module directory. */
    static Path inRepository(String path) {
        Path p = Path.of(path);
        if (p.isAbsolute() || Files.exists(p) || !Files.isDirectory(Path.of("..", "models"))) {
            return p;
        }
        return Path.of("..").resolve(p);
    }

    /**
     * The authors' per-annotator CSV ({@code id,text,label,cot}; id = {@code <comment>__<rater>}, label a
     * Python-list string); the {@code __aggregate} rows are their majority vote, not a person, and are skipped.
     */
    static List<Doc> annotatorSet(Path csv) throws IOException {
        List<List<String>> rows = csv(Files.readString(csv, StandardCharsets.UTF_8));
        List<String> header = rows.get(0);
        int id = header.indexOf("id");
        int text = header.indexOf("text");
        int label = header.indexOf("label");
        Map<String, String> texts = new LinkedHashMap<>();
        Map<String, List<List<String>>> raters = new LinkedHashMap<>();
        for (List<String> row : rows.subList(1, rows.size())) {
            String[] idRater = row.get(id).split("__", 2);
            texts.putIfAbsent(idRater[0], row.get(text).strip());
            List<List<String>> a = raters.computeIfAbsent(idRater[0], k -> new ArrayList<>());
            if (!idRater[1].equals("aggregate")) {
                a.add(labels(row.get(label)));
            }
        }
        List<Doc> docs = new ArrayList<>();
        texts.forEach((i, t) -> docs.add(new Doc(i, t, List.copyOf(raters.get(i)))));
        return docs;
    }

    /** RFC 4180 CSV: fields in double quotes may hold commas, line breaks and doubled quotes. Empty lines skipped. */
    static List<List<String>> csv(String s) {
        List<List<String>> rows = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < s.length() && s.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(field.toString());
                field.setLength(0);
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') {
                    i++;
                }
                row.add(field.toString());
                field.setLength(0);
                if (!(row.size() == 1 && row.get(0).isEmpty())) {
                    rows.add(row);
                }
                row = new ArrayList<>();
            } else {
                field.append(c);
            }
        }
        if (field.length() > 0 || !row.isEmpty()) {
            row.add(field.toString());
            rows.add(row);
        }
        return rows;
    }

    /** {@code ['joy', 'fear']} → [joy, fear]; {@code []} → []. */
    static List<String> labels(String pythonList) {
        String inner = pythonList.strip();
        if (!inner.startsWith("[") || !inner.endsWith("]")) {
            throw new IllegalArgumentException("not a list of labels: " + pythonList);
        }
        List<String> out = new ArrayList<>();
        for (String part : inner.substring(1, inner.length() - 1).split(",")) {
            String l = part.strip().replaceAll("^['\"]|['\"]$", "").toLowerCase(Locale.ROOT);
            if (!l.isEmpty()) {
                out.add(l);
            }
        }
        return out;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String range(double[] v) {
        return String.format(Locale.ROOT, "%.2f-%.2f", Arrays.stream(v).min().orElse(0), Arrays.stream(v).max().orElse(0));
    }
}
