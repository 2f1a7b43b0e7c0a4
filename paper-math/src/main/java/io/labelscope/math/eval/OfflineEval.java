package io.labelscope.math.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelscope.math.Alignment;
import io.labelscope.math.Calibration;
import io.labelscope.math.Conventions;
import io.labelscope.math.DocumentAnalysis;
import io.labelscope.math.DocumentAnalysis.DocumentInput;
import io.labelscope.math.DocumentAnalysis.MethodResult;
import io.labelscope.math.DocumentAnalysis.Report;
import io.labelscope.math.GenerationDynamics;
import io.labelscope.math.InvalidInputException;
import io.labelscope.math.Labels;
import io.labelscope.math.Method;
import io.labelscope.math.StepShape;
import io.labelscope.math.Summary;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The offline eval of EVAL-FORMAT.md: recorded generations + annotations in, the per-document and aggregate
 * figures out, computed by the same {@link DocumentAnalysis} the streaming aggregator uses.
 *
 * <p>API: {@link #run(Path, Conventions)}, {@link #run(InputStream, Conventions)}, {@link #run(JsonNode,
 * Conventions)} return the output tree; {@code labelscope eval FILE} (the cli module) is its command line.
 */
public final class OfflineEval {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private OfflineEval() {
    }

    /**
     * Standalone use without the command line module: {@code java -cp ... OfflineEval [--compat paper|code] FILE}
     * prints the output JSON. The full set of options is {@code ./labelscope eval} (cli module). Exit status 1 on
     * invalid input (the message names the document and step), 2 on wrong use.
     */
    public static void main(String[] args) throws IOException {
        Conventions conventions = Conventions.paper();
        String file = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--compat") && i + 1 < args.length) {
                conventions = conventions.withMode(Conventions.Mode.fromWireName(args[++i]));
            } else if (file == null && !args[i].startsWith("--")) {
                file = args[i];
            } else {
                System.err.println("usage: OfflineEval [--compat paper|code] FILE");
                System.exit(2);
            }
        }
        if (file == null) {
            System.err.println("usage: OfflineEval [--compat paper|code] FILE");
            System.exit(2);
        }
        try {
            System.out.println(toJson(run(Path.of(file), conventions)));
        } catch (InvalidInputException e) {
            System.err.println("eval: invalid input: " + e.getMessage());
            System.exit(1);
        }
    }

    public static ObjectNode run(Path input, Conventions conventions) throws IOException {
        try (InputStream in = Files.newInputStream(input)) {
            return run(in, conventions);
        }
    }

    public static ObjectNode run(InputStream input, Conventions conventions) throws IOException {
        return run(JSON.readTree(input), conventions);
    }

    /**
     * @throws InvalidInputException for input the math cannot score (names the document and step)
     */
    public static ObjectNode run(JsonNode input, Conventions conventions) {
        return run(input, conventions, null);
    }

    /**
     * The eval with calibration (docs/calibration.md §5): every document also gets
     * {@code calibrated_max_over_generations} and the calibrator it was calibrated with, the aggregate the
     * calibrated method's means, and the output a {@code calibration} section (reliability diagram and ECE per
     * method, the calibrators, calibrated − raw paired differences).
     *
     * @param calibration where calibrators come from; null for the plain EVAL-FORMAT output
     * @throws InvalidInputException for input the math cannot score (names the document and step)
     */
    public static ObjectNode run(JsonNode input, Conventions conventions, CalibrationSource calibration) {
        List<Report> reports = analyse(input, conventions);
        List<Calibration.Calibrator> calibrators = null;
        Calibration.Calibrator latest = null;
        if (calibration != null) {
            Calibration.Settings settings = calibration.settings();
            if (calibration.isPrequential()) {
                calibrators = Calibration.prequential(reports, settings, conventions);
                latest = Calibration.evidence(reports, settings, conventions).fit(settings);
            } else {
                latest = Calibration.evidence(analyse(calibration.fitInput(), conventions), settings, conventions)
                        .fit(settings);
                calibrators = Collections.nCopies(reports.size(), latest);
            }
            List<Report> calibrated = new ArrayList<>(reports.size());
            for (int i = 0; i < reports.size(); i++) {
                Report r = reports.get(i);
                calibrated.add(r.withMethod(Method.CALIBRATED_MAX_OVER_GENERATIONS,
                        Calibration.calibrated(r, calibrators.get(i), conventions)));
            }
            reports = calibrated;
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("conventions", conventions(conventions));
        ArrayNode docs = out.putArray("documents");
        for (int i = 0; i < reports.size(); i++) {
            ObjectNode d = document(reports.get(i));
            if (calibrators != null) {
                d.set("calibrator", CalibrationReport.calibrator(calibrators.get(i)));
            }
            docs.add(d);
        }
        out.set("aggregate", aggregate(reports));
        if (calibration != null) {
            out.set("calibration", CalibrationReport.of(reports, calibration, latest));
        }
        return out;
    }

    private static List<Report> analyse(JsonNode input, Conventions conventions) {
        List<Report> reports = new ArrayList<>();
        for (DocumentInput doc : EvalInput.documents(input)) {
            reports.add(DocumentAnalysis.analyse(doc, conventions));
        }
        return reports;
    }

    /** Serialises an output tree the way the command prints it (indented JSON). */
    public static String toJson(JsonNode output) throws IOException {
        return JSON.writeValueAsString(output);
    }

    static ObjectNode conventions(Conventions c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("mode", c.mode().wireName());
        n.put("eps_hard", c.epsHard());
        n.put("eps_max_floor", c.epsMaxFloor());
        n.put("nll_clip", c.nllClip());
        n.put("model_threshold", c.modelThreshold());
        n.put("human_threshold", c.humanThreshold());
        n.put("empty_f1", c.emptyF1());
        n.put("bt_lambda", c.btLambda());
        return n;
    }

    // ---- per document -------------------------------------------------------------------------------------

    private static ObjectNode document(Report r) {
        List<String> labels = r.labels();
        GenerationDynamics.Result dyn = r.dynamics();
        ObjectNode n = JSON.createObjectNode();
        n.put("id", r.id());
        strings(n.putArray("labels"), labels);
        n.put("n_steps", dyn.stepCount());
        strings(n.putArray("final_valid_labels"), dyn.finalValidLabels());
        strings(n.putArray("generation_sequence"), dyn.generationSequence());
        if (r.human() == null) {
            n.putNull("human");
        } else {
            n.set("human", labelMap(labels, r.human()));
        }
        n.put("n_annotators", r.annotatorCount());
        if (r.goldLabels() == null) {
            n.putNull("gold_labels");
            n.putNull("gold_source");
        } else {
            strings(n.putArray("gold_labels"), r.goldLabels());
            n.put("gold_source", r.goldFromOverride() ? "gold_labels" : "human>=threshold");
        }
        ObjectNode methods = n.putObject("methods");
        // Every method the analysis computed, first_step included: the same set the aggregator streams.
        for (Map.Entry<Method, MethodResult> e : r.methods().entrySet()) {
            methods.set(e.getKey().wireName(), method(labels, e.getValue()));
        }
        n.putObject("extras");
        ArrayNode steps = n.putArray("steps");
        for (int i = 0; i < dyn.stepCount(); i++) {
            steps.add(step(r, i));
        }
        n.put("multilabel_output", dyn.multilabelOutput());
        if (dyn.order() == null) {
            n.putNull("order");
        } else {
            ObjectNode o = n.putObject("order");
            o.put("alphabetical", dyn.order().alphabetical());
            o.put("prompt_order", dyn.order().promptOrder());
        }
        if (r.labelOrderCorrect() == null) {
            n.putNull("label_order_correct");
        } else {
            ArrayNode a = n.putArray("label_order_correct");
            r.labelOrderCorrect().forEach(a::add);
        }
        if (r.firstStepSortedLabelProbabilities() == null) {
            n.putNull("first_step_sorted_label_probs");
        } else {
            ArrayNode a = n.putArray("first_step_sorted_label_probs");
            for (double p : r.firstStepSortedLabelProbabilities()) {
                a.add(p);
            }
        }
        return n;
    }

    private static ObjectNode method(List<String> labels, MethodResult m) {
        ObjectNode n = JSON.createObjectNode();
        n.set("dist", labelMap(labels, m.distribution()));
        strings(n.putArray("pred_labels"), m.predictedLabels());
        Alignment.Scores s = m.scores();
        putNullable(n, "nll", s == null ? null : s.nll());
        putNullable(n, "l1", s == null ? null : s.l1());
        putNullable(n, "example_f1", s == null ? null : s.exampleF1());
        return n;
    }

    private static ObjectNode step(Report r, int i) {
        List<String> labels = r.labels();
        GenerationDynamics.Result dyn = r.dynamics();
        StepShape shape = dyn.shapes().get(i);
        double[] probs = r.stepProbabilities().get(i);
        ObjectNode n = JSON.createObjectNode();
        n.put("r", i + 1);
        n.put("type", dyn.isLast(i) ? "last" : "intermediate");
        n.put("generated", r.generatedAsRecorded().get(i));
        ObjectNode p = n.putObject("probs");
        for (int k = 0; k < probs.length; k++) {
            p.put(Labels.nameAt(labels, k), probs[k]);
        }
        ObjectNode top1 = n.putObject("top1");
        top1.put("label", shape.top1Label(labels));
        top1.put("prob", shape.top1());
        ObjectNode top2 = n.putObject("top2");
        top2.put("label", shape.top2Label(labels));
        top2.put("prob", shape.top2());
        n.put("entropy_bits", shape.entropyBits());
        n.put("entropy_nats", shape.entropyNats());
        GenerationDynamics.StepRanking rk = dyn.rankings().get(i);
        if (rk == null) {
            n.putNull("ranking");
        } else {
            ObjectNode o = n.putObject("ranking");
            o.put("second_label", Labels.nameAt(labels, rk.secondIndex()));
            o.put("second_prob", rk.secondProbability());
            o.put("next_label", Labels.nameAt(labels, rk.nextIndex()));
            o.put("next_is_second", rk.nextIsSecond());
            putNullable(o, "r1_pred_prob", rk.nextProbabilityAtR());
            o.put("intermediate_at_r1", rk.secondProbabilityAtNext());
            o.put("next_top_prob_at_r1", rk.nextTopProbability());
            if (rk.secondNeverPredicted() == null) {
                o.putNull("second_never_predicted");
            } else {
                o.put("second_never_predicted", rk.secondNeverPredicted());
            }
        }
        return n;
    }

    // ---- aggregate -------------------------------------------------------------------------------------------

    private static ObjectNode aggregate(List<Report> reports) {
        ObjectNode n = JSON.createObjectNode();
        n.put("n_documents", reports.size());

        ObjectNode methods = n.putObject("methods");
        for (Method m : Method.values()) {
            if (reports.stream().noneMatch(r -> r.methods().containsKey(m))) {
                continue;
            }
            List<Double> nll = new ArrayList<>();
            List<Double> l1 = new ArrayList<>();
            List<Double> f1 = new ArrayList<>();
            for (Report r : reports) {
                MethodResult res = r.methods().get(m);
                if (res != null && res.scores() != null) {
                    nll.add(res.scores().nll());
                    l1.add(res.scores().l1());
                    f1.add(res.scores().exampleF1());
                }
            }
            ObjectNode o = methods.putObject(m.wireName());
            putNullable(o, "nll", mean(nll));
            putNullable(o, "l1", mean(l1));
            putNullable(o, "example_f1", mean(f1));
            o.put("n_docs", nll.size());
        }

        // spikiness per last/intermediate and 1-based step index
        Map<Integer, StepSeries> last = new TreeMap<>();
        Map<Integer, StepSeries> intermediate = new TreeMap<>();
        int secondNotNext = 0;
        int neverPredicted = 0;
        Map<Integer, int[]> positionAccuracy = new TreeMap<>();
        int multilabel = 0;
        int twoPlus = 0;
        int alphabetical = 0;
        int promptOrder = 0;
        for (Report r : reports) {
            GenerationDynamics.Result dyn = r.dynamics();
            for (int i = 0; i < dyn.stepCount(); i++) {
                StepShape s = dyn.shapes().get(i);
                StepSeries series = (dyn.isLast(i) ? last : intermediate).computeIfAbsent(i + 1,
                        k -> new StepSeries());
                series.top1.add(s.top1());
                series.top2.add(s.top2());
                series.bits.add(s.entropyBits());
                series.nats.add(s.entropyNats());
                GenerationDynamics.StepRanking rk = dyn.rankings().get(i);
                if (rk != null) {
                    if (rk.nextProbabilityAtR() != null) {
                        series.r1Pred.add(rk.nextProbabilityAtR());
                    }
                    series.intermediateAtR1.add(rk.secondProbabilityAtNext());
                    series.nextTop.add(rk.nextTopProbability());
                    series.rankings++;
                    series.nextIsSecond += rk.nextIsSecond() ? 1 : 0;
                    if (rk.secondNeverPredicted() != null) {
                        secondNotNext++;
                        neverPredicted += rk.secondNeverPredicted() ? 1 : 0;
                    }
                }
            }
            if (dyn.multilabelOutput()) {
                multilabel++;
            }
            if (dyn.order() != null) {
                twoPlus++;
                alphabetical += dyn.order().alphabetical() ? 1 : 0;
                promptOrder += dyn.order().promptOrder() ? 1 : 0;
            }
            if (r.labelOrderCorrect() != null) {
                for (int k = 0; k < r.labelOrderCorrect().size(); k++) {
                    int[] acc = positionAccuracy.computeIfAbsent(k + 1, x -> new int[2]);
                    acc[0]++;
                    acc[1] += r.labelOrderCorrect().get(k);
                }
            }
        }
        ObjectNode spikiness = n.putObject("spikiness");
        ObjectNode lastNode = spikiness.putObject("last");
        last.forEach((k, s) -> lastNode.set("r=" + k, s.toJson(false)));
        ObjectNode intermediateNode = spikiness.putObject("intermediate");
        intermediate.forEach((k, s) -> intermediateNode.set("r=" + k, s.toJson(true)));

        ObjectNode never = n.putObject("second_never_predicted");
        never.put("n_steps_second_not_next", secondNotNext);
        never.put("n_never_predicted", neverPredicted);
        putNullable(never, "pct", percent(neverPredicted, secondNotNext));

        ObjectNode orderAccuracy = n.putObject("label_order_accuracy");
        positionAccuracy.forEach((k, acc) -> {
            ObjectNode o = orderAccuracy.putObject("pos=" + k);
            o.put("n", acc[0]);
            o.put("accuracy", (double) acc[1] / acc[0]);
        });
        putNullable(n, "multilabel_output_rate", reports.isEmpty() ? null : (double) multilabel / reports.size());
        ObjectNode patterns = n.putObject("label_order_patterns");
        patterns.put("n_docs_with_2plus_labels", twoPlus);
        putNullable(patterns, "pct_alphabetical", percent(alphabetical, twoPlus));
        putNullable(patterns, "pct_prompt_order", percent(promptOrder, twoPlus));
        return n;
    }

    /** Step statistics of one (last/intermediate, step index) cell. */
    private static final class StepSeries {
        final List<Double> top1 = new ArrayList<>();
        final List<Double> top2 = new ArrayList<>();
        final List<Double> bits = new ArrayList<>();
        final List<Double> nats = new ArrayList<>();
        final List<Double> r1Pred = new ArrayList<>();
        final List<Double> intermediateAtR1 = new ArrayList<>();
        final List<Double> nextTop = new ArrayList<>();
        int rankings;
        int nextIsSecond;

        ObjectNode toJson(boolean withRanking) {
            ObjectNode o = JSON.createObjectNode();
            o.set("top1", summary(top1));
            o.set("top2", summary(top2));
            o.set("entropy_bits", summary(bits));
            o.set("entropy_nats", summary(nats));
            if (withRanking) {
                o.set("r1_pred_prob", summary(r1Pred));
                o.set("intermediate_at_r1", summary(intermediateAtR1));
                o.set("next_top_prob_at_r1", summary(nextTop));
                putNullable(o, "pct_next_is_second", percent(nextIsSecond, rankings));
            }
            return o;
        }
    }

    private static ObjectNode summary(List<Double> values) {
        Summary s = Summary.of(values);
        ObjectNode o = JSON.createObjectNode();
        o.put("n", s.n());
        putNullable(o, "mean", s.n() == 0 ? null : s.mean());
        putNullable(o, "std", s.n() == 0 ? null : s.std());
        return o;
    }

    private static Double mean(List<Double> values) {
        return values.isEmpty() ? null : Summary.of(values).mean();
    }

    private static Double percent(int part, int whole) {
        return whole == 0 ? null : 100.0 * part / whole;
    }

    private static void putNullable(ObjectNode n, String key, Double v) {
        if (v == null || v.isNaN()) {
            n.putNull(key);
        } else {
            n.put(key, v.doubleValue());
        }
    }

    private static ObjectNode labelMap(List<String> labels, double[] values) {
        ObjectNode o = JSON.createObjectNode();
        for (int i = 0; i < labels.size(); i++) {
            o.put(labels.get(i), values[i]);
        }
        return o;
    }

    private static void strings(ArrayNode a, List<String> values) {
        values.forEach(a::add);
    }
}
