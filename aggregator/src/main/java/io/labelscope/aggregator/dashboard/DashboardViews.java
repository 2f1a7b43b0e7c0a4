package io.labelscope.aggregator.dashboard;

import io.labelscope.aggregator.document.NamedDoubles;

import io.labelscope.aggregator.avro.AnnotationStateRecord;
import io.labelscope.aggregator.avro.DeadLetterTallyRecord;
import io.labelscope.aggregator.avro.DistributionStateRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.MethodStateRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.aggregator.avro.StepRecord;
import io.labelscope.aggregator.rest.DistributionJson;
import io.labelscope.aggregator.rest.TaskVersions;
import io.labelscope.math.HumanDistribution;
import io.labelscope.math.Labels;
import io.labelscope.math.StepShape;
import io.labelscope.math.StepSoftmax;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The dashboard's JSON views of the aggregator's state (pure functions of the stored values). */
final class DashboardViews {

    /** The method whose predicted labels the recent-documents list shows (the paper's recommendation). */
    static final String HEADLINE_METHOD = "max_over_generations";

    private DashboardViews() {
    }

    /** One row of the recent-documents list: a run's emitted distribution. */
    static Map<String, Object> recent(DistributionStateRecord d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("document_id", d.getDocumentId());
        m.put("task", d.getTask());
        m.put("model", d.getModel());
        m.put("run_id", d.getRunId());
        m.put("task_version", d.getTaskVersion());
        m.put("annotators", d.getAnnotators());
        MethodStateRecord headline = null;
        for (MethodStateRecord method : d.getMethods()) {
            if (HEADLINE_METHOD.equals(method.getName())) {
                headline = method;
            }
        }
        m.put("predicted", headline == null ? List.of() : headline.getPredicted());
        m.put("example_f1", headline == null ? null : headline.getExampleF1());
        m.put("updated_at", Instant.ofEpochMilli(d.getUpdatedAt()).toString());
        m.put("updated_at_ms", d.getUpdatedAt());
        return m;
    }

    /** One error type's dead letters (what one stream task counted): how many, and the newest one's reason. */
    static Map<String, Object> deadLetters(DeadLetterTallyRecord t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", t.getCount());
        m.put("latest_reason", t.getLatestReason());
        m.put("latest_source_topic", t.getLatestSourceTopic());
        m.put("latest_rejected_by", t.getLatestRejectedBy());
        m.put("latest_failed_at", t.getLatestFailedAt().toString());
        m.put("latest_failed_at_ms", t.getLatestFailedAt().toEpochMilli());
        return m;
    }

    /**
     * A document's steps: per run, each step's softmax over labels + none (from the stored logits, exactly as the
     * methods see them), the label written there, its top-1 and entropy; beside the human distribution and each
     * method's distribution once the run is complete.
     */
    /** @param version a REST version parameter: keep only that task version's runs (null: every run) */
    static Map<String, Object> steps(DocumentStateRecord state, String version) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("document_id", state.getDocumentId());
        body.put("task", state.getTask());
        List<String> labels = state.getLabels();
        body.put("labels", labels);
        List<Map<String, Object>> annotators = new ArrayList<>();
        List<List<String>> annotatorLabels = new ArrayList<>();
        for (AnnotationStateRecord a : state.getAnnotations()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("annotator_id", a.getAnnotatorId());
            m.put("labels", a.getLabels());
            annotators.add(m);
            annotatorLabels.add(a.getLabels());
        }
        body.put("annotators", annotators);
        Map<String, Double> human = null;
        for (RunRecord run : state.getRuns()) {
            if (run.getEmitted() != null && run.getEmitted().getDistribution().getHuman() != null) {
                DistributionStateRecord d = run.getEmitted().getDistribution();
                human = NamedDoubles.map(d.getHuman(), d.getLabels()); // what the methods were scored against
            }
        }
        if (human == null && labels != null) {
            double[] h = HumanDistribution.of(labels, annotatorLabels);
            if (h != null) {
                human = new LinkedHashMap<>();
                for (int i = 0; i < labels.size(); i++) {
                    human.put(labels.get(i), h[i]);
                }
            }
        }
        body.put("human", human);
        List<Map<String, Object>> runs = new ArrayList<>();
        for (RunRecord run : state.getRuns()) {
            if (TaskVersions.selects(version, run.getTaskVersion())) {
                runs.add(run(labels, run));
            }
        }
        body.put("runs", runs);
        return body;
    }

    private static Map<String, Object> run(List<String> labels, RunRecord run) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", run.getModel());
        m.put("run_id", run.getRunId());
        m.put("task_version", run.getTaskVersion());
        m.put("complete", run.getEmitted() != null);
        m.put("run_methods", run.getMethods());
        m.put("unary_received", run.getUnary() != null);
        m.put("binary_received", run.getBinary() != null);
        m.put("steps_total", run.getGeneration() == null ? null : run.getGeneration().getStepsTotal());
        m.put("parsed_labels", run.getGeneration() == null ? null : run.getGeneration().getParsedLabels());
        List<Map<String, Object>> steps = new ArrayList<>();
        for (StepRecord s : run.getSteps()) {
            steps.add(step(labels, s));
        }
        m.put("steps", steps);
        // The generated text beside the labels parsed from it (issue #15: what the model wrote, unparsed).
        m.put("raw_output", run.getGeneration() == null ? null : run.getGeneration().getRawOutput());
        if (run.getEmitted() != null) {
            DistributionStateRecord d = run.getEmitted().getDistribution();
            m.put("methods", DistributionJson.methods(d));
            m.put("updated_at", Instant.ofEpochMilli(d.getUpdatedAt()).toString());
        } else {
            m.put("methods", Map.of());
        }
        return m;
    }

    private static Map<String, Object> step(List<String> labels, StepRecord s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", s.getStep());
        m.put("generated_label", s.getGeneratedLabel());
        if (labels == null) {
            return m;
        }
        double[] z = NamedDoubles.over(s.getLogits(), NamedDoubles.withNone(labels));
        for (double v : z) {
            if (!Double.isFinite(v)) {
                m.put("probabilities", null); // not a step the methods could use (the assembler rejects these)
                return m;
            }
        }
        double[] p = StepSoftmax.probabilities(z);
        Map<String, Double> probs = new LinkedHashMap<>();
        for (int k = 0; k < p.length; k++) {
            probs.put(Labels.nameAt(labels, k), p[k]);
        }
        StepShape shape = StepShape.of(p);
        String written = Labels.normalize(s.getGeneratedLabel());
        // SPEC §5: the step's label is the one recorded, or its argmax when the record has none or an unknown one.
        m.put("label", written != null && Labels.indexWithNone(labels, written) >= 0 ? written
                : shape.top1Label(labels));
        m.put("probabilities", probs);
        m.put("top1", shape.top1());
        m.put("top2", shape.top2());
        m.put("entropy_bits", shape.entropyBits());
        return m;
    }
}
