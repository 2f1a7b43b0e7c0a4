package io.labelscope.aggregator.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.GenerationStateRecord;
import io.labelscope.aggregator.avro.NamedDoublesRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.aggregator.avro.StepRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The document view ({@code GET /api/documents/{id}/steps}) beside its steps: the generated text and its labels. */
class DashboardViewsTest {

    @Test
    @SuppressWarnings("unchecked")
    void documentViewShowsTheGeneratedTextAndTheLabelsParsedFromIt() {
        DocumentStateRecord state = new DocumentStateRecord("d1", "emotions", List.of("joy", "fear"),
                new ArrayList<>(), new ArrayList<>());
        RunRecord generated = run("org/model", "run-1");
        generated.setMethods(List.of("generate"));
        generated.getSteps().add(new StepRecord(0, 1, "fear", logits(0.0, 1.0, -1.0), 42L));
        generated.setGeneration(new GenerationStateRecord(List.of("fear"), 1, 43L, "Labels: fear, maybe joy?"));
        RunRecord stepsOnly = run("org/model", "run-2");
        stepsOnly.getSteps().add(new StepRecord(0, 1, "joy", logits(1.0, 0.0, -1.0), 44L));
        state.getRuns().addAll(List.of(generated, stepsOnly));

        List<Map<String, Object>> runs = (List<Map<String, Object>>) DashboardViews.steps(state, null).get("runs");

        assertThat(runs.get(0)).containsEntry("raw_output", "Labels: fear, maybe joy?")
                .containsEntry("parsed_labels", List.of("fear"));
        // A run whose generation has not arrived yet: both are there, as null (the page shows nothing yet).
        assertThat(runs.get(1)).containsEntry("raw_output", null).containsEntry("parsed_labels", null);
    }

    private static RunRecord run(String model, String runId) {
        return RunRecord.newBuilder().setModel(model).setRunId(runId).setMethods(null).setSteps(new ArrayList<>())
                .setGeneration(null).setUnary(null).setBinary(null).setEmitted(null).build();
    }

    /** Logits over joy, fear, none (the state keeps the values in label order). */
    private static NamedDoublesRecord logits(double joy, double fear, double none) {
        return new NamedDoublesRecord(null, List.of(joy, fear, none));
    }
}
