package io.labelscope.demomodel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelscope.math.Alignment;
import io.labelscope.math.Conventions;
import io.labelscope.math.DocumentAnalysis;
import io.labelscope.math.HardPredictions;
import io.labelscope.math.HumanDistribution;
import io.labelscope.math.Labels;
import io.labelscope.math.Method;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.decode.LabelStepRecord;
import io.labelscope.runtime.task.TaskDefinition;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Scores a model on a task through the runtime (LabelDecoder: greedy decoding, label steps) and paper-math
 * (DocumentAnalysis: the methods and their alignment with the annotators), beside the constant baselines.
 */
public final class DemoEval {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final List<Method> METHODS = List.of(Method.MAX_OVER_GENERATIONS, Method.COMPARE_TO_NONE,
            Method.HARD_PREDICTIONS, Method.FIRST_STEP);

    /** Mean NLL, L1 and example-F1 over the documents. */
    public record Means(double nll, double l1, double f1) {
        static Means of(List<Alignment.Scores> s) {
            return new Means(s.stream().mapToDouble(Alignment.Scores::nll).average().orElse(Double.NaN),
                    s.stream().mapToDouble(Alignment.Scores::l1).average().orElse(Double.NaN),
                    s.stream().mapToDouble(Alignment.Scores::exampleF1).average().orElse(Double.NaN));
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "NLL %.4f  L1 %.4f  F1 %.4f", nll, l1, f1);
        }
    }

    /**
     * Everything reported for one task.
     *
     * @param validJson share of answers that are exactly one JSON object {"label": [...]} whose every element is a
     *     label or none (none alone)
     * @param withSteps share of answers with at least one label step
     * @param multiLabel share of answers with two or more distinct valid labels
     * @param methods per method, the mean alignment
     * @param bestConstant the constant answer (a label set, empty = none) with the highest mean example-F1, scored
     *     as hard predictions
     * @param prior the constant distribution = the mean human distribution of the training documents
     */
    public record Report(String task, int documents, double validJson, double withSteps, double multiLabel,
                         Map<Method, Means> methods, List<String> bestConstantAnswer, Means bestConstant,
                         Means prior, double seconds, List<GenerationResult> results) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", task);
            m.put("documents", documents);
            m.put("valid_json", validJson);
            m.put("answers_with_steps", withSteps);
            m.put("multi_label_answers", multiLabel);
            Map<String, Object> ms = new LinkedHashMap<>();
            methods.forEach((k, v) -> ms.put(k.name().toLowerCase(Locale.ROOT), means(v)));
            m.put("methods", ms);
            m.put("best_constant_answer", bestConstantAnswer.isEmpty() ? List.of("none") : bestConstantAnswer);
            m.put("best_constant", means(bestConstant));
            m.put("prior_constant_distribution", prior == null ? null : means(prior));
            m.put("decode_seconds", seconds);
            return m;
        }

        private static Map<String, Double> means(Means v) {
            Map<String, Double> o = new LinkedHashMap<>();
            o.put("nll", v.nll());
            o.put("l1", v.l1());
            o.put("example_f1", v.f1());
            return o;
        }

        public String summary() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "%s: %d documents, valid JSON %.2f%%, with steps %.2f%%, "
                            + "multi-label answers %.2f%% (%.0f s)%n", task, documents, 100 * validJson,
                    100 * withSteps, 100 * multiLabel, seconds));
            methods.forEach((k, v) -> sb.append(String.format(Locale.ROOT, "  %-22s %s%n", k, v)));
            sb.append(String.format(Locale.ROOT, "  %-22s %s   (answer %s)%n", "best constant answer", bestConstant,
                    bestConstantAnswer.isEmpty() ? "[none]" : bestConstantAnswer));
            if (prior != null) {
                sb.append(String.format(Locale.ROOT, "  %-22s %s%n", "prior distribution", prior));
            }
            return sb.toString();
        }
    }

    private DemoEval() {}

    /** Whether an answer is exactly {"label": [...]} with label or none elements ({@code none} only alone). */
    static boolean validJson(String answer, List<String> labels) {
        try {
            JsonNode n = JSON.readTree(answer.strip());
            if (n == null || !n.isObject() || n.size() != 1 || !n.has("label") || !n.get("label").isArray()
                    || n.get("label").isEmpty()) {
                return false;
            }
            int none = 0;
            for (JsonNode v : n.get("label")) {
                if (!v.isTextual()) {
                    return false;
                }
                String s = v.asText();
                if (s.equals(Labels.NONE)) {
                    none++;
                } else if (!labels.contains(s)) {
                    return false;
                }
            }
            return none == 0 || n.get("label").size() == 1;
        } catch (Exception e) {
            return false;
        }
    }

    /** Classifies the documents in chunks and scores them. */
    public static Report run(LlmModel model, TaskDefinition task, List<DemoData.Doc> docs,
                             List<DemoData.Doc> trainDocs, Conventions conv) {
        List<String> labels = task.labels();
        long t0 = System.nanoTime();
        List<GenerationResult> results = new ArrayList<>(docs.size());
        try (LabelDecoder dec = new LabelDecoder(model, task, true)) {
            int chunk = 256;
            for (int i = 0; i < docs.size(); i += chunk) {
                List<String> texts = docs.subList(i, Math.min(docs.size(), i + chunk)).stream()
                        .map(DemoData.Doc::text).toList();
                results.addAll(dec.classify(texts));
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        int valid = 0;
        int steps = 0;
        int multi = 0;
        Map<Method, List<Alignment.Scores>> per = new EnumMap<>(Method.class);
        for (int i = 0; i < docs.size(); i++) {
            GenerationResult r = results.get(i);
            DemoData.Doc d = docs.get(i);
            valid += validJson(r.answer(), labels) ? 1 : 0;
            steps += r.steps().isEmpty() ? 0 : 1;
            multi += Labels.distinctValid(labels, r.parsedLabels()).size() >= 2 ? 1 : 0;
            List<DocumentAnalysis.StepInput> in = new ArrayList<>();
            for (LabelStepRecord s : r.steps()) {
                in.add(new DocumentAnalysis.StepInput(s.rawLogits(), s.generatedLabel()));
            }
            DocumentAnalysis.Report rep = DocumentAnalysis.analyse(new DocumentAnalysis.DocumentInput(d.id(), labels,
                    in, r.parsedLabels(), d.annotators(), null, null, null), conv);
            for (Method m : METHODS) {
                per.computeIfAbsent(m, k -> new ArrayList<>()).add(rep.methods().get(m).scores());
            }
        }
        Map<Method, Means> methods = new EnumMap<>(Method.class);
        per.forEach((k, v) -> methods.put(k, Means.of(v)));
        List<String> best = List.of();
        Means bestMeans = null;
        for (int mask = 0; mask < (1 << labels.size()); mask++) {
            List<String> answer = new ArrayList<>();
            for (int j = 0; j < labels.size(); j++) {
                if ((mask & (1 << j)) != 0) {
                    answer.add(labels.get(j));
                }
            }
            Means m = constant(HardPredictions.distribution(labels, answer, conv), docs, labels, conv);
            if (bestMeans == null || m.f1() > bestMeans.f1()) {
                best = answer;
                bestMeans = m;
            }
        }
        Means prior = null;
        if (trainDocs != null && !trainDocs.isEmpty()) {
            double[] p = new double[labels.size()];
            for (DemoData.Doc d : trainDocs) {
                double[] h = HumanDistribution.of(labels, d.annotators());
                for (int j = 0; j < p.length; j++) {
                    p[j] += h[j] / trainDocs.size();
                }
            }
            prior = constant(p, docs, labels, conv);
        }
        return new Report(task.name(), docs.size(), (double) valid / docs.size(), (double) steps / docs.size(),
                (double) multi / docs.size(), methods, best, bestMeans, prior, seconds, results);
    }

    private static Means constant(double[] p, List<DemoData.Doc> docs, List<String> labels, Conventions conv) {
        List<Alignment.Scores> s = new ArrayList<>(docs.size());
        for (DemoData.Doc d : docs) {
            double[] h = HumanDistribution.of(labels, d.annotators());
            s.add(Alignment.score(p, h, labels, Alignment.humanMajority(labels, h, conv), conv));
        }
        return Means.of(s);
    }

    /**
     * The decoded documents in the offline eval's input format (docs/eval-format.md), in eval order: per document
     * its label steps (raw logits over the labels and none, the label written), its parsed answer and its
     * annotators, so {@code labelscope eval} scores exactly what this eval scored.
     */
    static ObjectNode recorded(TaskDefinition task, List<DemoData.Doc> docs, List<GenerationResult> results) {
        List<String> labels = task.labels();
        ObjectNode root = JSON.createObjectNode();
        root.put("dataset", task.name());
        labels.forEach(root.putArray("labels")::add);
        ArrayNode out = root.putArray("documents");
        for (int i = 0; i < docs.size(); i++) {
            GenerationResult r = results.get(i);
            ObjectNode d = out.addObject();
            d.put("id", docs.get(i).id());
            ArrayNode steps = d.putArray("steps");
            for (LabelStepRecord s : r.steps()) {
                ObjectNode step = steps.addObject();
                ObjectNode logits = step.putObject("logits");
                for (int k = 0; k <= labels.size(); k++) {
                    logits.put(Labels.nameAt(labels, k), s.rawLogits()[k]);
                }
                step.put("generated", s.generatedLabel());
            }
            r.parsedLabels().forEach(d.putArray("final_labels")::add);
            ArrayNode annotators = d.putArray("annotators");
            for (List<String> a : docs.get(i).annotators()) {
                a.forEach(annotators.addArray()::add);
            }
        }
        return root;
    }
}
