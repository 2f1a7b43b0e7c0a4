package io.labelscope.math.eval;

import com.fasterxml.jackson.databind.JsonNode;
import io.labelscope.math.BinaryBreakdown;
import io.labelscope.math.DocumentAnalysis.DocumentInput;
import io.labelscope.math.DocumentAnalysis.StepInput;
import io.labelscope.math.DocumentAnalysis.UnaryInput;
import io.labelscope.math.InvalidInputException;
import io.labelscope.math.Labels;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads the EVAL-FORMAT.md input JSON into the math library's plain records. Unknown keys are ignored. */
final class EvalInput {

    private EvalInput() {
    }

    static List<DocumentInput> documents(JsonNode root) {
        if (root == null || !root.isObject()) {
            throw new InvalidInputException("(input)", null, "the input must be a JSON object");
        }
        List<String> taskLabels = root.hasNonNull("labels") ? labelSet("(input)", root.get("labels")) : null;
        JsonNode docs = root.get("documents");
        if (docs == null || !docs.isArray()) {
            throw new InvalidInputException("(input)", null, "'documents' must be an array");
        }
        List<DocumentInput> out = new ArrayList<>();
        int position = 0;
        for (JsonNode doc : docs) {
            position++;
            String id = doc.hasNonNull("id") ? doc.get("id").asText() : "#" + position;
            List<String> labels = doc.hasNonNull("labels") ? labelSet(id, doc.get("labels")) : taskLabels;
            if (labels == null) {
                throw new InvalidInputException(id, null, "no label set (neither top-level nor per document)");
            }
            out.add(new DocumentInput(id, labels, steps(id, labels, doc.get("steps")),
                    strings(id, doc.get("final_labels")), annotators(id, doc.get("annotators")),
                    doc.hasNonNull("gold_labels") ? strings(id, doc.get("gold_labels")) : null,
                    unary(id, labels, doc.get("unary")), binary(id, labels, doc.get("binary"))));
        }
        return out;
    }

    private static List<String> labelSet(String id, JsonNode node) {
        try {
            return Labels.normalizeLabelSet(strings(id, node));
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException(id, null, e.getMessage());
        }
    }

    private static List<StepInput> steps(String id, List<String> labels, JsonNode node) {
        List<StepInput> steps = new ArrayList<>();
        if (node == null || node.isNull()) {
            return steps;
        }
        if (!node.isArray()) {
            throw new InvalidInputException(id, null, "'steps' must be an array");
        }
        int r = 0;
        for (JsonNode step : node) {
            r++;
            JsonNode logits = step.get("logits");
            if (logits == null || !logits.isObject()) {
                throw new InvalidInputException(id, r, "no 'logits' object");
            }
            Map<String, JsonNode> byLabel = new HashMap<>();
            logits.fields().forEachRemaining(e -> byLabel.put(Labels.normalize(e.getKey()), e.getValue()));
            double[] z = new double[labels.size() + 1];
            for (int i = 0; i <= labels.size(); i++) {
                String name = Labels.nameAt(labels, i);
                JsonNode v = byLabel.get(name);
                if (v == null || !v.isNumber()) {
                    throw new InvalidInputException(id, r, "missing or non-numeric logit for '" + name + "'");
                }
                z[i] = v.asDouble();
            }
            JsonNode gen = step.get("generated");
            steps.add(new StepInput(z, gen == null || gen.isNull() ? null : gen.asText()));
        }
        return steps;
    }

    private static List<List<String>> annotators(String id, JsonNode node) {
        List<List<String>> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw new InvalidInputException(id, null, "'annotators' must be an array of label lists");
        }
        for (JsonNode a : node) {
            out.add(strings(id, a));
        }
        return out;
    }

    private static List<String> strings(String id, JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node == null || node.isNull()) {
            return out;
        }
        if (!node.isArray()) {
            throw new InvalidInputException(id, null, "expected a list of label names, got " + node);
        }
        for (JsonNode s : node) {
            if (!s.isNull()) {
                out.add(s.asText());
            }
        }
        return out;
    }

    private static UnaryInput unary(String id, List<String> labels, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        Map<String, JsonNode> byLabel = new HashMap<>();
        node.fields().forEachRemaining(e -> byLabel.put(Labels.normalize(e.getKey()), e.getValue()));
        double[] yes = new double[labels.size()];
        double[] no = new double[labels.size()];
        for (int i = 0; i < labels.size(); i++) {
            JsonNode v = byLabel.get(labels.get(i));
            if (v == null || !v.path("reasonable").isNumber() || !v.path("unreasonable").isNumber()) {
                throw new InvalidInputException(id, null,
                        "unary input lacks reasonable/unreasonable logits for '" + labels.get(i) + "'");
            }
            yes[i] = v.get("reasonable").asDouble();
            no[i] = v.get("unreasonable").asDouble();
        }
        return new UnaryInput(yes, no);
    }

    private static List<BinaryBreakdown.PairLogits> binary(String id, List<String> labels, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        List<BinaryBreakdown.PairLogits> pairs = new ArrayList<>();
        for (JsonNode p : node) {
            int a = Labels.indexWithNone(labels, Labels.normalize(p.path("a").asText(null)));
            int b = Labels.indexWithNone(labels, Labels.normalize(p.path("b").asText(null)));
            if (a < 0 || b < 0 || a == b || !p.path("logit_a").isNumber() || !p.path("logit_b").isNumber()) {
                throw new InvalidInputException(id, null, "invalid binary comparison " + p);
            }
            pairs.add(new BinaryBreakdown.PairLogits(a, b, p.get("logit_a").asDouble(), p.get("logit_b").asDouble()));
        }
        return pairs;
    }
}
