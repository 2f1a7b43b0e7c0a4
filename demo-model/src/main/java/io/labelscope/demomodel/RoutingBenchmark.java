package io.labelscope.demomodel;

import io.labelscope.math.Alignment;
import io.labelscope.math.AnnotationPriority;
import io.labelscope.math.AnnotationPriority.Settings;
import io.labelscope.math.AnnotationPriority.Strategy;
import io.labelscope.math.Conventions;
import io.labelscope.math.DocumentAnalysis;
import io.labelscope.math.HumanDistribution;
import io.labelscope.math.Method;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.decode.LabelStepRecord;
import io.labelscope.runtime.task.TaskDefinition;
import java.awt.Color;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code labelscope bench routing}: does "annotate next" (issue #18, {@link AnnotationPriority}) spend an
 * annotation budget better than picking documents at random? A simulation on real annotations.
 *
 * <p>Every document starts with one of its annotators (the arrival order of a document's annotators is a seeded
 * shuffle, the same for every policy under one seed). The remaining annotations (every annotator the data has for
 * the document, up to the maximum annotator count) are then spent in rounds: each round a policy picks up to
 * {@code roundSize} distinct documents that still have an unseen annotator, and each picked document receives its
 * next annotator. The policies are the three strategies (the documents {@link AnnotationPriority#rank} lists
 * first; when fewer than a round's worth have priority above 0 the rest of the round goes to documents picked
 * uniformly at random among the others, and the report counts those) and the uniformly random baseline. After
 * every round the current human distribution of every document is scored against its full-annotator gold: mean
 * example-F1 of the majority sets (SPEC §4, Y = {l : H_l ≥ 0.5}) and mean L1 (Σ_l |H_l − gold_l|).
 *
 * <p>The model's max-over-generations distribution of every document is computed once, by the committed demo
 * checkpoint through the runtime (greedy decoding, label steps, paper-math's {@link DocumentAnalysis}).
 */
public final class RoutingBenchmark {

    /** One document of the simulation: the model's p, its annotators' label vectors and the full gold. */
    record SimDocument(String id, double[] modelP, int[][] annotatorVotes, double[] gold, List<String> goldSet) {
        int annotators() {
            return annotatorVotes.length;
        }
    }

    /** A data set with the model's distributions computed. */
    record Dataset(String name, String description, List<String> labels, List<SimDocument> documents,
                   double decodeSeconds) {
    }

    /**
     * Mean quality over the documents after {@code spent} annotations beyond the first per document: example-F1
     * and L1 of the current human distribution, and example-F1 of the flip strategy's estimate m (its
     * decisions m ≥ 0.5, the thing {@code flip} spends annotations to get right).
     */
    record Point(int spent, double f1, double l1, double estimateF1) {
    }

    /** One policy's curve under one seed, and how many of its annotations fell back to random picks. */
    record Run(List<Point> curve, int randomFallback) {
    }

    /** A policy: a strategy's ranking, or {@code null} for the random baseline. */
    record Policy(String name, Strategy strategy) {
        boolean random() {
            return strategy == null;
        }
    }

    static final List<Policy> POLICIES = List.of(new Policy("random", null), new Policy("flip", Strategy.FLIP),
            new Policy("uncertainty", Strategy.UNCERTAINTY), new Policy("disagreement", Strategy.DISAGREEMENT));

    private final Settings settings;
    private final Conventions conventions;
    private final int rounds;

    RoutingBenchmark(Settings settings, Conventions conventions, int rounds) {
        this.settings = settings;
        this.conventions = conventions;
        this.rounds = rounds;
    }

    /** Annotations to spend beyond each document's first: every annotator the data has, up to the maximum. */
    int budget(List<SimDocument> docs) {
        int total = 0;
        for (SimDocument d : docs) {
            total += Math.min(d.annotators(), settings.maxAnnotators()) - 1;
        }
        return total;
    }

    /** Runs one policy under one seed. */
    Run simulate(List<String> labels, List<SimDocument> docs, Policy policy, long seed) {
        int count = docs.size();
        SplittableRandom orderRandom = new SplittableRandom(seed);
        int[][] order = new int[count][];
        for (int d = 0; d < count; d++) {
            order[d] = permutation(docs.get(d).annotators(), orderRandom);
        }
        // The picks of the random baseline and of the strategies' fallback: their own stream, so the annotator
        // order above is the same for every policy.
        SplittableRandom pickRandom = new SplittableRandom(seed * 1_000_003L + 17);
        int[] seen = new int[count];
        int[][] votes = new int[count][labels.size()];
        for (int d = 0; d < count; d++) {
            reveal(docs.get(d), order[d], seen, votes, d);
        }
        int budget = budget(docs);
        int roundSize = Math.max(1, (budget + rounds - 1) / rounds);
        List<Point> curve = new ArrayList<>();
        curve.add(score(labels, docs, seen, votes, 0));
        int spent = 0;
        int fallback = 0;
        while (spent < budget) {
            int want = Math.min(roundSize, budget - spent);
            List<Integer> open = new ArrayList<>();
            for (int d = 0; d < count; d++) {
                if (seen[d] < Math.min(docs.get(d).annotators(), settings.maxAnnotators())) {
                    open.add(d);
                }
            }
            List<Integer> picked = new ArrayList<>();
            if (!policy.random()) {
                Map<Integer, Double> priority = new LinkedHashMap<>();
                for (int d : open) {
                    priority.put(d, AnnotationPriority.priority(policy.strategy(), docs.get(d).modelP(), votes[d],
                            seen[d], settings, conventions));
                }
                picked.addAll(AnnotationPriority.rank(open, d -> docs.get(d).id(), priority::get, want,
                        conventions));
            }
            int ranked = picked.size();
            List<Integer> rest = new ArrayList<>(open);
            rest.removeAll(picked);
            pickUniformly(rest, want - picked.size(), pickRandom, picked);
            if (!policy.random()) {
                fallback += picked.size() - ranked;
            }
            for (int d : picked) {
                reveal(docs.get(d), order[d], seen, votes, d);
            }
            spent += picked.size();
            curve.add(score(labels, docs, seen, votes, spent));
        }
        return new Run(curve, fallback);
    }

    private static void reveal(SimDocument doc, int[] order, int[] seen, int[][] votes, int d) {
        int[] next = doc.annotatorVotes()[order[seen[d]]];
        for (int l = 0; l < next.length; l++) {
            votes[d][l] += next[l];
        }
        seen[d]++;
    }

    private Point score(List<String> labels, List<SimDocument> docs, int[] seen, int[][] votes, int spent) {
        double f1 = 0;
        double l1 = 0;
        double estimateF1 = 0;
        for (int d = 0; d < docs.size(); d++) {
            SimDocument doc = docs.get(d);
            double[] current = new double[labels.size()];
            double[] estimate = new double[labels.size()];
            for (int l = 0; l < current.length; l++) {
                current[l] = (double) votes[d][l] / seen[d];
                estimate[l] = AnnotationPriority.posteriorMean(doc.modelP()[l], votes[d][l], seen[d],
                        settings.priorStrength());
            }
            f1 += Alignment.exampleF1(doc.goldSet(), Alignment.humanMajority(labels, current, conventions),
                    conventions);
            estimateF1 += Alignment.exampleF1(doc.goldSet(), Alignment.predicted(labels, estimate, conventions),
                    conventions);
            for (int l = 0; l < current.length; l++) {
                l1 += Math.abs(current[l] - doc.gold()[l]);
            }
        }
        return new Point(spent, f1 / docs.size(), l1 / docs.size(), estimateF1 / docs.size());
    }

    private static int[] permutation(int size, SplittableRandom random) {
        int[] p = new int[size];
        for (int i = 0; i < size; i++) {
            p[i] = i;
        }
        for (int i = size - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Adds {@code k} distinct members of {@code from} (or all of them), uniformly, to {@code into}. */
    private static void pickUniformly(List<Integer> from, int k, SplittableRandom random, List<Integer> into) {
        List<Integer> pool = new ArrayList<>(from);
        for (int i = 0; i < k && i < pool.size(); i++) {
            int j = i + random.nextInt(pool.size() - i);
            Integer t = pool.get(i);
            pool.set(i, pool.get(j));
            pool.set(j, t);
            into.add(pool.get(i));
        }
    }

    // ---- data: the model's distributions on real annotated documents ----

    /** Decodes the documents with a demo checkpoint and keeps what the simulation needs. */
    static Dataset dataset(String name, String description, TaskDefinition task, Path model,
                           List<DemoData.Doc> docs, Conventions conventions) {
        List<String> labels = task.labels();
        long t0 = System.nanoTime();
        List<GenerationResult> results = new ArrayList<>(docs.size());
        try (LlmModel m = LlmModel.load(model, RuntimeConfig.cpu().withMaxBatchSize(64));
                LabelDecoder decoder = new LabelDecoder(m, task, true)) {
            for (int i = 0; i < docs.size(); i += 256) {
                results.addAll(decoder.classify(docs.subList(i, Math.min(docs.size(), i + 256)).stream()
                        .map(DemoData.Doc::text).toList()));
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<SimDocument> out = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            DemoData.Doc doc = docs.get(i);
            List<DocumentAnalysis.StepInput> steps = new ArrayList<>();
            for (LabelStepRecord s : results.get(i).steps()) {
                steps.add(new DocumentAnalysis.StepInput(s.rawLogits(), s.generatedLabel()));
            }
            DocumentAnalysis.Report report = DocumentAnalysis.analyse(new DocumentAnalysis.DocumentInput(doc.id(),
                    labels, steps, results.get(i).parsedLabels(), doc.annotators(), null, null, null), conventions);
            double[] p = report.methods().get(Method.MAX_OVER_GENERATIONS).distribution();
            int[][] annotatorVotes = new int[doc.annotators().size()][];
            for (int a = 0; a < annotatorVotes.length; a++) {
                annotatorVotes[a] = HumanDistribution.votes(labels, List.of(doc.annotators().get(a)));
            }
            double[] gold = HumanDistribution.of(labels, doc.annotators());
            out.add(new SimDocument(doc.id(), p, annotatorVotes, gold,
                    Alignment.humanMajority(labels, gold, conventions)));
        }
        return new Dataset(name, description, labels, out, seconds);
    }

    /**
     * One of the authors' per-annotator sets (45 texts x 3 annotators, {@code data/annotator-sets.md}; the
     * aggregate rows skipped), read by the same parser that feeds the demo streams.
     */
    static List<DemoData.Doc> annotatorSet(Path csv) {
        DemoStreams.Stream stream = new DemoStreams.Stream();
        DemoStreams.annotatorSet(csv, "", stream);
        Map<String, List<List<String>>> byDocument = new LinkedHashMap<>();
        stream.annotations.forEach(a -> {
            List<String> labels = new ArrayList<>();
            a.get("labels").forEach(l -> labels.add(l.asText()));
            byDocument.computeIfAbsent(a.get("document_id").asText(), k -> new ArrayList<>()).add(labels);
        });
        List<DemoData.Doc> docs = new ArrayList<>();
        stream.documents.forEach((id, text) -> docs.add(new DemoData.Doc(id, text, byDocument.get(id))));
        return docs;
    }

    // ---- the command ----

    public static void main(String[] args) throws IOException {
        System.setProperty("java.awt.headless", "true"); // the plot is drawn without a display
        Map<String, String> o = options(args);
        Path data = Path.of(o.getOrDefault("data", "data"));
        Path models = Path.of(o.getOrDefault("models", "models/demo"));
        Path out = Path.of(o.getOrDefault("out", "docs/benchmarks-routing.md"));
        Path png = Path.of(o.getOrDefault("png", "docs/routing.png"));
        Path csv = Path.of(o.getOrDefault("csv", "docs/routing-curves.csv"));
        int seeds = Integer.parseInt(o.getOrDefault("seeds", "5"));
        int rounds = Integer.parseInt(o.getOrDefault("rounds", "50"));
        Settings settings = new Settings(Double.parseDouble(o.getOrDefault("prior-strength", "2")),
                Integer.parseInt(o.getOrDefault("max-annotators", "10")));
        Conventions conventions = Conventions.paper();
        String load0 = loadAverage();
        Instant started = Instant.now();

        List<Dataset> datasets = new ArrayList<>();
        List<DemoData.Doc> mfrc = DemoData.mfrc(data, "test", Main.DATA_SEED);
        datasets.add(dataset("mfrc", "MFRC held-out test split (" + mfrc.size() + " texts), annotator sets derived "
                + "from the per-label vote counts (`DemoData.mfrcAnnotators`), model `models/demo/mfrc`",
                DemoTasks.mfrc(), models.resolve("mfrc"), mfrc, conventions));
        List<DemoData.Doc> goemotions = annotatorSet(data.resolve("goemotions/goemotions_demos.csv"));
        datasets.add(dataset("goemotions", "GoEmotions per-annotator set (" + goemotions.size() + " comments x raters "
                + "4, 37, 61, 7 clusters; `data/goemotions/goemotions_demos.csv`), model `models/demo/goemotions`",
                DemoTasks.goemotions(), models.resolve("goemotions"), goemotions, conventions));
        // MFRC's real per-annotator set: no derived annotators (Non-Moral and Thin Morality are outside the
        // label set, so such an annotator chose no foundation).
        List<DemoData.Doc> mfrcAnnotators = annotatorSet(data.resolve("mfrc/mfrc_demos.csv"));
        datasets.add(dataset("mfrc-annotators", "MFRC per-annotator set (" + mfrcAnnotators.size() + " texts x "
                + "annotators 00, 01, 03; `data/mfrc/mfrc_demos.csv`; 32 of the texts are in the demo model's training "
                + "split, with derived annotators), model `models/demo/mfrc`", DemoTasks.mfrc(),
                models.resolve("mfrc"), mfrcAnnotators, conventions));

        RoutingBenchmark bench = new RoutingBenchmark(settings, conventions, rounds);
        Report report = new Report(settings, seeds, rounds, started, load0);
        for (Dataset ds : datasets) {
            long t0 = System.nanoTime();
            Map<Policy, List<Run>> runs = new LinkedHashMap<>();
            for (Policy policy : POLICIES) {
                List<Run> perSeed = new ArrayList<>();
                for (int seed = 1; seed <= seeds; seed++) {
                    perSeed.add(bench.simulate(ds.labels(), ds.documents(), policy, seed));
                }
                runs.put(policy, perSeed);
            }
            report.add(ds, bench.budget(ds.documents()), runs, (System.nanoTime() - t0) / 1e9);
            System.out.printf(Locale.ROOT, "%s: %d documents, decoded in %.1f s, simulated in %.1f s%n", ds.name(),
                    ds.documents().size(), ds.decodeSeconds(), (System.nanoTime() - t0) / 1e9);
        }
        report.write(out, png, csv, loadAverage());
        System.out.println("wrote " + out + ", " + png + " and " + csv);
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --name value pairs (--seeds, --rounds, "
                        + "--prior-strength, --max-annotators, --data, --models, --out, --png, --csv), got "
                        + args[i]);
            }
            o.put(args[i].substring(2), args[++i]);
        }
        return o;
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /**
     * Mean curve of a policy over the seeds, on the grid 0, r, 2r, ... budget of the round size r. A run's rounds
     * can fall short of r near the end (fewer open documents than a round), so runs are read at the grid points
     * by linear interpolation between the points they recorded.
     */
    static List<Point> mean(List<Run> runs, int budget, int roundSize) {
        List<Point> mean = new ArrayList<>();
        for (int spent = 0; ; spent = Math.min(budget, spent + roundSize)) {
            double f1 = 0;
            double l1 = 0;
            double estimateF1 = 0;
            for (Run r : runs) {
                Point p = at(r.curve(), spent);
                f1 += p.f1();
                l1 += p.l1();
                estimateF1 += p.estimateF1();
            }
            mean.add(new Point(spent, f1 / runs.size(), l1 / runs.size(), estimateF1 / runs.size()));
            if (spent == budget) {
                return mean;
            }
        }
    }

    /** A curve's quality after {@code spent} annotations, linear between its recorded points. */
    static Point at(List<Point> curve, int spent) {
        for (int i = 1; i < curve.size(); i++) {
            Point a = curve.get(i - 1);
            Point b = curve.get(i);
            if (spent <= b.spent()) {
                double w = b.spent() == a.spent() ? 1 : (double) (spent - a.spent()) / (b.spent() - a.spent());
                return new Point(spent, a.f1() + w * (b.f1() - a.f1()), a.l1() + w * (b.l1() - a.l1()),
                        a.estimateF1() + w * (b.estimateF1() - a.estimateF1()));
            }
        }
        Point last = curve.get(curve.size() - 1);
        return new Point(spent, last.f1(), last.l1(), last.estimateF1());
    }

    /** What a curve point is scored by; L1 is better lower, the F1s higher. */
    enum Metric {
        F1("example-F1 (human)"),
        L1("L1 (human)"),
        ESTIMATE_F1("example-F1 (flip estimate)");

        final String title;

        Metric(String title) {
            this.title = title;
        }

        double of(Point p) {
            return switch (this) {
                case F1 -> p.f1();
                case L1 -> p.l1();
                case ESTIMATE_F1 -> p.estimateF1();
            };
        }

        boolean atLeastAsGood(double value, double target) {
            return this == L1 ? value <= target + 1e-12 : value >= target - 1e-12;
        }
    }

    /** The fewest annotations after which a curve is at least as good as {@code target}; −1 when it never is. */
    static int needed(List<Point> curve, double target, Metric metric) {
        for (Point p : curve) {
            if (metric.atLeastAsGood(metric.of(p), target)) {
                return p.spent();
            }
        }
        return -1;
    }

    /** Builds the markdown report, the CSV of every curve and the plot. */
    static final class Report {
        private final Settings settings;
        private final int seeds;
        private final int rounds;
        private final Instant started;
        private final String loadAtStart;
        private final StringBuilder md = new StringBuilder();
        private final StringBuilder csv = new StringBuilder("dataset,policy,spent,example_f1,l1,estimate_example_f1\n");
        private final List<XYChart> charts = new ArrayList<>();

        Report(Settings settings, int seeds, int rounds, Instant started, String loadAtStart) {
            this.settings = settings;
            this.seeds = seeds;
            this.rounds = rounds;
            this.started = started;
            this.loadAtStart = loadAtStart;
        }

        void add(Dataset ds, int budget, Map<Policy, List<Run>> runs, double simulateSeconds) {
            Map<Policy, List<Point>> means = new LinkedHashMap<>();
            int roundSize = Math.max(1, (budget + rounds - 1) / rounds);
            runs.forEach((p, r) -> means.put(p, mean(r, budget, roundSize)));
            List<Point> random = means.get(POLICIES.get(0));
            int annotators = budget + ds.documents().size();
            md.append(String.format(Locale.ROOT, "%n## %s%n%n%s. Annotations: %,d in all (%,d documents start with "
                            + "one each; a budget of %,d to spend in rounds of %,d). Decoding took %.1f s, the "
                            + "simulation %.1f s.%n%n", ds.name(), ds.description(), annotators,
                    ds.documents().size(), budget, roundSize, ds.decodeSeconds(),
                    simulateSeconds));
            md.append("Mean over the documents, then over ").append(seeds)
                    .append(" seeds (random: mean and min-max over the seeds), at each tenth of the budget:\n\n");
            md.append("| annotations spent | random F1 | flip F1 | uncertainty F1 | disagreement F1 | random L1 "
                    + "| flip L1 | uncertainty L1 | disagreement L1 |\n|---|---|---|---|---|---|---|---|---|\n");
            for (int tenth = 0; tenth <= 10; tenth++) {
                int index = nearestIndex(random, budget * tenth / 10.0);
                StringBuilder f1 = new StringBuilder();
                StringBuilder l1 = new StringBuilder();
                for (Policy p : POLICIES) {
                    Point pt = means.get(p).get(index);
                    if (p.random()) {
                        double[] f1Range = range(runs.get(p), pt.spent(), true);
                        double[] l1Range = range(runs.get(p), pt.spent(), false);
                        f1.append(String.format(Locale.ROOT, " %.4f (%.4f-%.4f) |", pt.f1(), f1Range[0], f1Range[1]));
                        l1.append(String.format(Locale.ROOT, " %.4f (%.4f-%.4f) |", pt.l1(), l1Range[0], l1Range[1]));
                    } else {
                        f1.append(String.format(Locale.ROOT, " %.4f |", pt.f1()));
                        l1.append(String.format(Locale.ROOT, " %.4f |", pt.l1()));
                    }
                }
                md.append(String.format(Locale.ROOT, "| %,d (%d %%) |", random.get(index).spent(),
                        Math.round(100.0 * random.get(index).spent() / budget))).append(f1).append(l1).append('\n');
            }
            md.append("\nAnnotations each strategy needs (mean curve) to reach the random strategy's quality after a "
                    + "share of the budget, as a share of what random spent (\"not reached\": never within the "
                    + "budget):\n\n| random's budget | metric | random's quality | flip | uncertainty | disagreement |\n"
                    + "|---|---|---|---|---|---|\n");
            for (int quarter = 1; quarter <= 4; quarter++) {
                int index = nearestIndex(random, budget * quarter / 4.0);
                Point target = random.get(index);
                for (Metric metric : Metric.values()) {
                    md.append(String.format(Locale.ROOT, "| %,d (%d %%) | %s | %.4f |", target.spent(),
                            Math.round(100.0 * target.spent() / budget), metric.title, metric.of(target)));
                    for (Policy p : POLICIES.subList(1, POLICIES.size())) {
                        int n = needed(means.get(p), metric.of(target), metric);
                        md.append(n < 0 ? " not reached |" : String.format(Locale.ROOT, " %,d (%.0f %%) |", n,
                                target.spent() == 0 ? 0 : 100.0 * n / target.spent()));
                    }
                    md.append('\n');
                }
            }
            md.append("\nAnnotations the strategies spent on random picks because fewer documents than a round had "
                    + "priority above 0 (mean over the seeds):");
            for (Policy p : POLICIES.subList(1, POLICIES.size())) {
                double f = runs.get(p).stream().mapToInt(Run::randomFallback).average().orElse(0);
                md.append(String.format(Locale.ROOT, " %s %,.0f (%.0f %% of the budget);", p.name(), f,
                        100.0 * f / budget));
            }
            md.setLength(md.length() - 1);
            md.append(".\n");
            md.append(String.format(Locale.ROOT, "%nExample-F1 of the flip estimate's decisions (m = (s·p + k)/(s + n) "
                    + ">= 0.5, s = %s: model and humans together) against the gold, same runs:%n%n| annotations spent |",
                    Report.stripZeros(settings.priorStrength())));
            POLICIES.forEach(p -> md.append(' ').append(p.name()).append(" |"));
            md.append("\n|---|---|---|---|---|\n");
            for (int fifth = 0; fifth <= 5; fifth++) {
                int index = nearestIndex(random, budget * fifth / 5.0);
                md.append(String.format(Locale.ROOT, "| %,d (%d %%) |", random.get(index).spent(),
                        Math.round(100.0 * random.get(index).spent() / budget)));
                for (Policy p : POLICIES) {
                    md.append(String.format(Locale.ROOT, " %.4f |", means.get(p).get(index).estimateF1()));
                }
                md.append('\n');
            }
            means.forEach((p, curve) -> curve.forEach(pt -> csv.append(String.format(Locale.ROOT,
                    "%s,%s,%d,%.6f,%.6f,%.6f%n", ds.name(), p.name(), pt.spent(), pt.f1(), pt.l1(),
                    pt.estimateF1()))));
            charts.add(chart(ds.name() + ": example-F1 vs full-annotator gold", "example-F1", means, true));
            charts.add(chart(ds.name() + ": L1 vs full-annotator gold", "L1", means, false));
        }

        private static int nearestIndex(List<Point> curve, double spent) {
            int best = 0;
            for (int i = 0; i < curve.size(); i++) {
                if (Math.abs(curve.get(i).spent() - spent) < Math.abs(curve.get(best).spent() - spent)) {
                    best = i;
                }
            }
            return best;
        }

        private static double[] range(List<Run> runs, int spent, boolean f1) {
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (Run r : runs) {
                Point p = at(r.curve(), spent);
                double v = f1 ? p.f1() : p.l1();
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            return new double[] {lo, hi};
        }

        private static final Color[] COLORS = {new Color(0x77, 0x77, 0x77), new Color(0xd6, 0x27, 0x28),
                new Color(0x1f, 0x77, 0xb4), new Color(0x2c, 0xa0, 0x2c)};

        private static XYChart chart(String title, String metric, Map<Policy, List<Point>> means, boolean f1) {
            XYChart chart = new XYChartBuilder().width(640).height(400).title(title)
                    .xAxisTitle("annotations spent beyond the first per document").yAxisTitle(metric).build();
            chart.getStyler().setMarkerSize(0);
            chart.getStyler().setLegendPosition(f1 ? org.knowm.xchart.style.Styler.LegendPosition.InsideSE
                    : org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
            int i = 0;
            for (Map.Entry<Policy, List<Point>> e : means.entrySet()) {
                double[] x = e.getValue().stream().mapToDouble(Point::spent).toArray();
                double[] y = e.getValue().stream().mapToDouble(p -> f1 ? p.f1() : p.l1()).toArray();
                XYSeries s = chart.addSeries(e.getKey().name() + (e.getKey().random() ? " (mean of seeds)" : ""), x, y);
                s.setMarker(SeriesMarkers.NONE);
                s.setLineColor(COLORS[i++ % COLORS.length]);
            }
            return chart;
        }

        void write(Path out, Path png, Path csvPath, String loadAtEnd) throws IOException {
            StringBuilder head = new StringBuilder("# Annotate next: routing simulation\n\n");
            head.append("Written by `./labelscope bench routing` (`io.labelscope.demomodel.RoutingBenchmark`); "
                    + "rewritten on every run. What the strategies are: [annotate-next.md](annotate-next.md); "
                    + "the summary: [benchmarks.md](benchmarks.md#annotate-next-routing-simulation).\n\n");
            head.append(String.format(Locale.ROOT, "Run %s UTC, %s, %d cores, load average (1/5/15 min) %s at the "
                            + "start and %s at the end. Settings: prior strength s = %s, maximum annotator count %d, "
                            + "%d rounds, seeds 1-%d (each seed fixes every document's annotator arrival order, the "
                            + "same for all policies, and the random picks), paper conventions (threshold 0.5, "
                            + "tolerance 1e-9).%n%n",
                    DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC).format(started),
                    System.getProperty("os.arch") + " " + System.getProperty("os.name"),
                    Runtime.getRuntime().availableProcessors(), loadAtStart, loadAtEnd,
                    stripZeros(settings.priorStrength()), settings.maxAnnotators(), rounds, seeds));
            head.append("Each document starts with one annotator; each round a policy picks distinct documents that "
                    + "still have an unseen annotator and reveals the next one. Quality: the current human "
                    + "distribution against the full-annotator gold of the same document, mean example-F1 of the "
                    + "majority sets (Y = {l : H_l >= 0.5}) and mean L1. At 100 % of the budget every policy has "
                    + "seen every annotator, so its human distribution equals the gold (the flip estimate still "
                    + "mixes in the model); the comparisons that matter are "
                    + "before that. Every curve: [routing-curves.csv](routing-curves.csv); the plot: "
                    + "[routing.png](routing.png).\n\n![Routing simulation](routing.png)\n");
            Files.writeString(out, head.toString() + md, StandardCharsets.UTF_8);
            Files.writeString(csvPath, csv.toString(), StandardCharsets.UTF_8);
            BitmapEncoder.saveBitmap(new ArrayList<>(charts), charts.size() / 2, 2, png.toString(),
                    BitmapEncoder.BitmapFormat.PNG);
        }

        private static String stripZeros(double v) {
            return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
        }
    }
}
