package io.labelscope.math.eval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelscope.math.Calibration;
import io.labelscope.math.DocumentAnalysis.MethodResult;
import io.labelscope.math.DocumentAnalysis.Report;
import io.labelscope.math.Method;
import io.labelscope.math.PairedComparison;
import io.labelscope.math.PlattScaling;
import io.labelscope.math.ReliabilityDiagram;
import io.labelscope.math.Summary;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/** The eval's {@code calibration} section (docs/calibration.md §5): reliability per method, calibrators, pairs. */
final class CalibrationReport {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private CalibrationReport() {
    }

    /**
     * @param reports    every document, the calibrated method included
     * @param source     where the calibrators came from
     * @param latest     the calibrator of the source's whole evidence (prequential: what a next document would get)
     */
    static ObjectNode of(List<Report> reports, CalibrationSource source, Calibration.Calibrator latest) {
        ObjectNode n = NODES.objectNode();
        n.put("source", source.description());
        ObjectNode settings = n.putObject("settings");
        settings.put("minimum_documents", source.settings().minimumDocuments());
        settings.put("shared_across_labels", source.settings().sharedAcrossLabels());
        settings.put("lambda", source.settings().lambda());
        settings.put("gradient_tolerance", source.settings().gradientTolerance());
        settings.put("fit_bins", PlattScaling.FIT_BINS);
        settings.put("fit_bin_width", PlattScaling.FIT_BIN_WIDTH);
        settings.put("reliability_bins", ReliabilityDiagram.BIN_COUNT);
        n.set("calibrator", calibrator(latest));

        ObjectNode methods = n.putObject("methods");
        for (Method m : Method.values()) {
            List<Report> withMethod = reports.stream().filter(r -> r.annotated() && r.methods().containsKey(m))
                    .toList();
            if (withMethod.isEmpty()) {
                continue;
            }
            methods.set(m.wireName(), method(withMethod, m));
        }

        ObjectNode paired = n.putObject("paired");
        paired.set(Method.CALIBRATED_MAX_OVER_GENERATIONS.wireName() + " - "
                + Method.MAX_OVER_GENERATIONS.wireName(), paired(reports, Method.CALIBRATED_MAX_OVER_GENERATIONS,
                Method.MAX_OVER_GENERATIONS));
        return n;
    }

    static ObjectNode calibrator(Calibration.Calibrator c) {
        ObjectNode n = NODES.objectNode();
        n.put("identity", c.identity());
        n.put("fitted_on_documents", c.fittedOnDocuments());
        if (!c.identity()) {
            ObjectNode maps = n.putObject("maps");
            c.maps().forEach((label, m) -> {
                ObjectNode o = maps.putObject(label);
                o.put("a", m.a());
                o.put("b", m.b());
            });
        }
        return n;
    }

    /** Mean alignment and the reliability diagram (pooled and per label) of one method over annotated documents. */
    private static ObjectNode method(List<Report> annotated, Method m) {
        ObjectNode n = NODES.objectNode();
        n.put("n_docs", annotated.size());
        n.put("nll", mean(annotated, r -> r.methods().get(m).scores().nll()));
        n.put("l1", mean(annotated, r -> r.methods().get(m).scores().l1()));
        n.put("example_f1", mean(annotated, r -> r.methods().get(m).scores().exampleF1()));
        ReliabilityDiagram pooled = ReliabilityDiagram.EMPTY;
        Map<String, ReliabilityDiagram> byLabel = new TreeMap<>();
        for (Report r : annotated) {
            double[] p = r.methods().get(m).distribution();
            pooled = pooled.plus(ReliabilityDiagram.ofDocument(p, r.human()));
            for (int l = 0; l < r.labels().size(); l++) {
                byLabel.merge(r.labels().get(l), ReliabilityDiagram.ofLabel(p, r.human(), l),
                        ReliabilityDiagram::plus);
            }
        }
        diagram(n, pooled);
        ObjectNode labels = n.putObject("by_label");
        byLabel.forEach((label, d) -> diagram(labels.putObject(label), d));
        return n;
    }

    private static void diagram(ObjectNode n, ReliabilityDiagram d) {
        n.put("pairs", d.pairs());
        putNullable(n, "ece", d.ece());
        ArrayNode bins = n.putArray("bins");
        for (ReliabilityDiagram.Bin b : d.bins()) {
            ObjectNode o = bins.addObject();
            o.put("count", b.count());
            putNullable(o, "mean_predicted", b.meanPredicted());
            putNullable(o, "mean_human", b.meanHuman());
        }
    }

    /** Per-document differences a − b of NLL, L1 and example-F1 over the annotated documents with both. */
    private static ObjectNode paired(List<Report> reports, Method a, Method b) {
        List<Report> both = reports.stream().filter(r -> r.annotated() && r.methods().containsKey(a)
                && r.methods().containsKey(b)).toList();
        ObjectNode n = NODES.objectNode();
        n.set("nll", comparison(both, a, b, r -> r.scores().nll()));
        n.set("l1", comparison(both, a, b, r -> r.scores().l1()));
        n.set("example_f1", comparison(both, a, b, r -> r.scores().exampleF1()));
        return n;
    }

    private static ObjectNode comparison(List<Report> both, Method a, Method b, ToDoubleFunction<MethodResult> metric) {
        double[] va = new double[both.size()];
        double[] vb = new double[both.size()];
        for (int i = 0; i < both.size(); i++) {
            va[i] = metric.applyAsDouble(both.get(i).methods().get(a));
            vb[i] = metric.applyAsDouble(both.get(i).methods().get(b));
        }
        PairedComparison c = PairedComparison.of(va, vb);
        ObjectNode n = NODES.objectNode();
        n.put("n_docs", c.documents());
        putNullable(n, "mean_difference", c.meanDifference());
        putNullable(n, "ci95_low", c.low());
        putNullable(n, "ci95_high", c.high());
        return n;
    }

    private static double mean(List<Report> reports, ToDoubleFunction<Report> f) {
        List<Double> v = new ArrayList<>(reports.size());
        for (Report r : reports) {
            v.add(f.applyAsDouble(r));
        }
        return Summary.of(v).mean();
    }

    private static void putNullable(ObjectNode n, String key, Double v) {
        if (v == null) {
            n.putNull(key);
        } else {
            n.put(key, v.doubleValue());
        }
    }
}
