package io.labelscope.aggregator.dashboard;

import io.labelscope.aggregator.avro.DeadLetterTallyRecord;
import io.labelscope.aggregator.rest.TaskVersions;
import io.labelscope.aggregator.state.AnnotationEntry;
import io.labelscope.aggregator.state.DistributionView;
import io.labelscope.aggregator.state.DocumentState;
import io.labelscope.aggregator.state.MethodView;
import io.labelscope.aggregator.state.RunState;
import io.labelscope.aggregator.state.StepEntry;
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
    static Map<String, Object> recent(DistributionView d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("document_id", d.documentId());
        m.put("task", d.task());
        m.put("model", d.model());
        m.put("run_id", d.runId());
        m.put("task_version", d.taskVersion());
        m.put("annotators", d.annotators());
        MethodView headline = d.methods().get(HEADLINE_METHOD);
        m.put("predicted", headline == null ? List.of() : headline.predicted());
        m.put("example_f1", headline == null ? null : headline.exampleF1());
        m.put("updated_at", Instant.ofEpochMilli(d.updatedAt()).toString());
        m.put("updated_at_ms", d.updatedAt());
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
    static Map<String, Object> steps(DocumentState state, String version) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("document_id", state.documentId);
        body.put("task", state.task);
        List<String> labels = state.labels;
        body.put("labels", labels);
        List<Map<String, Object>> annotators = new ArrayList<>();
        List<List<String>> annotatorLabels = new ArrayList<>();
        for (AnnotationEntry a : state.annotations.values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("annotator_id", a.annotatorId());
            m.put("labels", a.labels());
            annotators.add(m);
            annotatorLabels.add(a.labels());
        }
        body.put("annotators", annotators);
        Map<String, Double> human = null;
        for (RunState run : state.runs.values()) {
            if (run.emitted != null && run.emitted.distribution().human() != null) {
                human = run.emitted.distribution().human(); // what the methods were scored against
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
        for (RunState run : state.runs.values()) {
            if (TaskVersions.selects(version, run.taskVersion)) {
                runs.add(run(labels, run));
            }
        }
        body.put("runs", runs);
        return body;
    }

    private static Map<String, Object> run(List<String> labels, RunState run) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", run.model);
        m.put("run_id", run.runId);
        m.put("task_version", run.taskVersion);
        m.put("complete", run.emitted != null);
        m.put("run_methods", run.methods);
        m.put("unary_received", run.unary != null);
        m.put("binary_received", run.binary != null);
        m.put("steps_total", run.generation == null ? null : run.generation.stepsTotal());
        m.put("parsed_labels", run.generation == null ? null : run.generation.parsedLabels());
        List<Map<String, Object>> steps = new ArrayList<>();
        for (StepEntry s : run.steps.values()) {
            steps.add(step(labels, s));
        }
        m.put("steps", steps);
        // The generated text beside the labels parsed from it (issue #15: what the model wrote, unparsed).
        m.put("raw_output", run.generation == null ? null : run.generation.rawOutput());
        if (run.emitted != null) {
            DistributionView d = run.emitted.distribution();
            m.put("methods", d.methods());
            m.put("updated_at", Instant.ofEpochMilli(d.updatedAt()).toString());
        } else {
            m.put("methods", Map.of());
        }
        return m;
    }

    private static Map<String, Object> step(List<String> labels, StepEntry s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", s.step());
        m.put("generated_label", s.generated());
        if (labels == null) {
            return m;
        }
        double[] z = new double[labels.size() + 1];
        for (int k = 0; k <= labels.size(); k++) {
            Double v = s.logits().get(Labels.nameAt(labels, k));
            if (v == null || !Double.isFinite(v)) {
                m.put("probabilities", null); // not a step the methods could use (the assembler rejects these)
                return m;
            }
            z[k] = v;
        }
        double[] p = StepSoftmax.probabilities(z);
        Map<String, Double> probs = new LinkedHashMap<>();
        for (int k = 0; k < p.length; k++) {
            probs.put(Labels.nameAt(labels, k), p[k]);
        }
        StepShape shape = StepShape.of(p);
        String written = Labels.normalize(s.generated());
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
