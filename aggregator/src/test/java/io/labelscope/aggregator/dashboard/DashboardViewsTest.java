package io.labelscope.aggregator.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.aggregator.state.DocumentState;
import io.labelscope.aggregator.state.GenerationEntry;
import io.labelscope.aggregator.state.RunState;
import io.labelscope.aggregator.state.StepEntry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The document view ({@code GET /api/documents/{id}/steps}) beside its steps: the generated text and its labels. */
class DashboardViewsTest {

    @Test
    @SuppressWarnings("unchecked")
    void documentViewShowsTheGeneratedTextAndTheLabelsParsedFromIt() {
        DocumentState state = new DocumentState();
        state.documentId = "d1";
        state.task = "emotions";
        state.labels = List.of("joy", "fear");
        RunState generated = state.run("org/model", "run-1");
        generated.methods = List.of("generate");
        generated.steps.put(0, new StepEntry(0, 1, "fear", Map.of("joy", 0.0, "fear", 1.0, "none", -1.0), 42L));
        generated.generation = new GenerationEntry(List.of("fear"), 1, 43L, "Labels: fear, maybe joy?");
        state.run("org/model", "run-2").steps.put(0,
                new StepEntry(0, 1, "joy", Map.of("joy", 1.0, "fear", 0.0, "none", -1.0), 44L));

        List<Map<String, Object>> runs = (List<Map<String, Object>>) DashboardViews.steps(state, null).get("runs");

        assertThat(runs.get(0)).containsEntry("raw_output", "Labels: fear, maybe joy?")
                .containsEntry("parsed_labels", List.of("fear"));
        // A run whose generation has not arrived yet: both are there, as null (the page shows nothing yet).
        assertThat(runs.get(1)).containsEntry("raw_output", null).containsEntry("parsed_labels", null);
    }
}
