package io.labelscope.aggregator;

import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Input records for the scenarios. Logits are logs of counts, so the step softmax is the counts over their sum
 * and every expected number can be worked out by hand: ln[6,2,1,1] over (joy, fear, anger, none) gives
 * P = [.6, .2, .1, .1].
 */
final class Records {

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
        return Generation.newBuilder()
                .setDocumentId(doc).setTask(TASK).setModel(model).setRunId(RUN)
                .setRawOutput("{\"label\": " + List.of(parsed) + "}").setParsedLabels(List.of(parsed))
                .setStepsTotal(steps).setPromptTokens(100).setOutputTokens(10).setLatencyMs(50)
                .setStopReason("eos").setProducedAt(at).setLabels(LABELS).build();
    }

    static Annotation annotation(String doc, String annotator, String... labels) {
        return Annotation.newBuilder()
                .setDocumentId(doc).setTask(TASK).setAnnotatorId(annotator).setLabels(List.of(labels))
                .setAnnotatedAt(T0).build();
    }

    /** σ(ln x) = x / (1 + x): compare-to-none of a label whose count is x times none's. */
    static double sigmoidOfLn(double x) {
        return x / (1 + x);
    }
}
