package io.labelscope.aggregator;

import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.PairLogits;
import io.labelscope.schemas.UnaryLogits;
import io.labelscope.schemas.UnaryProbes;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Input records for the scenarios. Logits are logs of counts, so the step softmax is the counts over their sum
 * and every expected number can be worked out by hand: ln[6,2,1,1] over (joy, fear, anger, none) gives
 * P = [.6, .2, .1, .1].
 */
public final class Records {

    static final String TASK = "emotions";
    static final String RUN = "run-1";
    static final List<String> LABELS = List.of("joy", "fear", "anger");
    static final Instant T0 = Instant.parse("2026-11-26T10:00:10Z");

    private Records() {
    }

    /** @param counts over joy, fear, anger, none */
    static LabelStep step(String model, String doc, int step, int total, String generated, double... counts) {
        Map<String, Double> logits = new java.util.HashMap<>();
        Map<String, Double> probs = new LinkedHashMap<>();
        double sum = 0;
        for (double c : counts) {
            sum += c;
        }
        for (int i = 0; i < counts.length; i++) {
            String name = i < LABELS.size() ? LABELS.get(i) : "none";
            logits.put(name, Math.log(counts[i]));
            probs.put(name, counts[i] / sum);
        }
        return LabelStep.newBuilder()
                .setDocumentId(doc).setTask(TASK).setModel(model).setRunId(RUN)
                .setStep(step).setStepsTotal(total).setGeneratedLabel(generated)
                .setLogits(logits).setProbabilities(probs).setTokenIndex(3 + 4 * step)
                .setProducedAt(T0).setLabels(LABELS).build();
    }

    static Generation generation(String model, String doc, int steps, Instant at, String... parsed) {
        return generation(model, doc, List.of("generate"), steps, at, parsed);
    }

    static Generation generation(String model, String doc, List<String> methods, int steps, Instant at,
                                 String... parsed) {
        return Generation.newBuilder().setMethods(methods)
                .setDocumentId(doc).setTask(TASK).setModel(model).setRunId(RUN)
                .setRawOutput("{\"label\": " + List.of(parsed) + "}").setParsedLabels(List.of(parsed))
                .setStepsTotal(steps).setPromptTokens(100).setOutputTokens(10).setLatencyMs(50)
                .setStopReason("eos").setProducedAt(at).setLabels(LABELS).build();
    }

    /**
     * Unary probes as logs of odds: joy (ln 3, 0) → σ(ln 3) = 3/4; fear (ln 2, ln 3) → σ(ln 2/3) = 2/5;
     * anger (0, ln 4) → σ(−ln 4) = 1/5; none (0, 0), probed but not part of the breakdown.
     */
    static UnaryProbes unary(String model, String doc, List<String> methods) {
        Map<String, UnaryLogits> probes = new HashMap<>();
        probes.put("joy", new UnaryLogits(Math.log(3), 0.0));
        probes.put("fear", new UnaryLogits(Math.log(2), Math.log(3)));
        probes.put("anger", new UnaryLogits(0.0, Math.log(4)));
        probes.put("none", new UnaryLogits(0.0, 0.0));
        return UnaryProbes.newBuilder()
                .setDocumentId(doc).setTask(TASK).setModel(model).setRunId(RUN).setLabels(LABELS)
                .setProbes(probes).setMethods(methods).setPromptTokens(120).setLatencyMs(30).setProducedAt(T0)
                .build();
    }

    /**
     * Binary probes over every pair of joy, fear, anger, none (logit of the first option, of the second). One pair
     * shows none first, as a worker may: the pair's orientation must be kept. Rounded (outcome variant): joy
     * beats fear, anger and none; fear beats anger; none beats fear and anger.
     */
    static final Object[][] PAIRS = {
            {"joy", "fear", 2.0, 0.5}, {"joy", "anger", 1.0, -1.0}, {"joy", "none", 1.5, 0.0},
            {"fear", "anger", 0.3, 0.1}, {"fear", "none", -0.2, 0.4}, {"none", "anger", 0.5, -1.0}};

    static BinaryProbes binary(String model, String doc, List<String> methods) {
        List<PairLogits> pairs = new ArrayList<>();
        for (Object[] p : PAIRS) {
            pairs.add(new PairLogits((String) p[0], (String) p[1], (Double) p[2], (Double) p[3]));
        }
        return BinaryProbes.newBuilder()
                .setDocumentId(doc).setTask(TASK).setModel(model).setRunId(RUN).setLabels(LABELS)
                .setPairs(pairs).setMethods(methods).setPromptTokens(150).setLatencyMs(40).setProducedAt(T0)
                .build();
    }

    public static Annotation annotation(String doc, String annotator, String... labels) {
        return Annotation.newBuilder()
                .setDocumentId(doc).setTask(TASK).setAnnotatorId(annotator).setLabels(List.of(labels))
                .setAnnotatedAt(T0).build();
    }

    /** σ(ln x) = x / (1 + x): compare-to-none of a label whose count is x times none's. */
    static double sigmoidOfLn(double x) {
        return x / (1 + x);
    }
}
