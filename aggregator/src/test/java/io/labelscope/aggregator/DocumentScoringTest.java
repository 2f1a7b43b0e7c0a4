package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.state.AnnotationEntry;
import io.labelscope.aggregator.state.DocumentState;
import io.labelscope.aggregator.state.Emitted;
import io.labelscope.aggregator.state.GenerationEntry;
import io.labelscope.aggregator.state.RunState;
import io.labelscope.aggregator.state.StepEntry;
import io.labelscope.aggregator.state.UnaryEntry;
import io.labelscope.math.Conventions;
import io.labelscope.math.Moments;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Scoring as a pure function of a document's state: no Kafka Streams, no stores. */
class DocumentScoringTest {

    private static final Conventions PAPER = Conventions.paper();
    private static final List<String> GENERATION_METHODS = List.of("calibrated_max_over_generations",
            "compare_to_none", "first_step", "hard_predictions", "max_over_generations");

    private static DocumentState generatedDocument() {
        DocumentState s = new DocumentState();
        s.documentId = "d1";
        s.task = "emotions";
        s.labels = List.of("joy", "fear");
        RunState run = s.run("org/model", "run-1");
        run.methods = List.of("generate");
        run.steps.put(0, new StepEntry(0, 1, "joy", Map.of("joy", 2.0, "fear", 0.0, "none", -1.0), 42L));
        run.generation = new GenerationEntry(List.of("joy"), 1, 43L, "joy");
        s.annotations.put("a1", new AnnotationEntry("a1", List.of("joy"), 7L, true, null, null));
        return s;
    }

    private static RunState run(DocumentState s) {
        return s.runs.values().iterator().next();
    }

    @Test
    void aCompleteGeneratedRunIsScoredWithItsShareOfTheMetrics() throws Exception {
        DocumentState s = generatedDocument();
        Emitted scored = DocumentScoring.score(s, run(s), PAPER, 1000L);

        assertThat(scored.generationTime()).isEqualTo(43L);
        assertThat(scored.distribution().version()).isEqualTo(1);
        assertThat(scored.distribution().updatedAt()).isEqualTo(1000L);
        assertThat(scored.distribution().annotators()).isEqualTo(1);
        assertThat(scored.distribution().human()).containsExactly(Map.entry("joy", 1.0), Map.entry("fear", 0.0));
        // A generate-only run has the four generation methods and the calibrated one, no breakdowns.
        assertThat(scored.distribution().methods().keySet()).containsExactlyInAnyOrderElementsOf(GENERATION_METHODS);
        assertThat(scored.alignment().byMethod().keySet()).containsExactlyElementsOf(GENERATION_METHODS);
        assertThat(scored.alignment().byMethod().get("first_step").nll().count()).isEqualTo(1);
        assertThat(scored.spikiness().byCell()).containsKeys(SpikinessTallies.ANSWER_CELL, "last/0");

        List<Assembled.PendingChange> first = DocumentScoring.changes(null, scored);
        assertThat(first).hasSize(1);
        assertThat(first.get(0).time()).isEqualTo(43L);
        assertThat(first.get(0).change().alignment()).isEqualTo(scored.alignment());
        assertThat(first.get(0).change().spikiness()).isEqualTo(scored.spikiness());
    }

    @Test
    void aDuplicateChangesNothingAndANewVoteChangesOnlyTheAlignment() throws Exception {
        DocumentState s = generatedDocument();
        run(s).emitted = DocumentScoring.score(s, run(s), PAPER, 1000L);
        // The same records again, later: nothing new.
        assertThat(DocumentScoring.unchanged(run(s).emitted, DocumentScoring.score(s, run(s), PAPER, 2000L)))
                .isTrue();

        s.annotations.put("a2", new AnnotationEntry("a2", List.of("fear"), 8L, true, null, null));
        Emitted rescored = DocumentScoring.score(s, run(s), PAPER, 3000L);
        assertThat(DocumentScoring.unchanged(run(s).emitted, rescored)).isFalse();
        assertThat(rescored.distribution().version()).isEqualTo(2);
        List<Assembled.PendingChange> changes = DocumentScoring.changes(run(s).emitted, rescored);
        assertThat(changes).hasSize(1);
        assertThat(changes.get(0).time()).isEqualTo(43L);
        assertThat(changes.get(0).change().spikiness()).isNull(); // the steps did not change
        // Old share out, new share in: the all-time sum counts the document once, now with a 2-vote human.
        Moments oldNll = run(s).emitted.alignment().byMethod().get("first_step").nll();
        Moments newNll = rescored.alignment().byMethod().get("first_step").nll();
        Moments change = changes.get(0).change().alignment().byMethod().get("first_step").nll();
        assertThat(change.count()).isZero();
        assertThat(newNll.sum()).isNotEqualTo(oldNll.sum());
        assertThat(change.sum()).isCloseTo(newNll.sum() - oldNll.sum(), within(1e-12));
    }

    @Test
    void aGenerationResentWithAnotherTimeMovesItsShareToThatTime() throws Exception {
        DocumentState s = generatedDocument();
        Emitted old = DocumentScoring.score(s, run(s), PAPER, 1000L);
        run(s).emitted = old;
        run(s).generation = new GenerationEntry(List.of("joy"), 1, 50L, "joy");
        Emitted moved = DocumentScoring.score(s, run(s), PAPER, 2000L);

        List<Assembled.PendingChange> changes = DocumentScoring.changes(old, moved);
        assertThat(changes).extracting(Assembled.PendingChange::time).containsExactly(43L, 50L);
        assertThat(changes.get(0).change().alignment()).isEqualTo(old.alignment().negate());
        assertThat(changes.get(0).change().spikiness()).isEqualTo(old.spikiness().negate());
        assertThat(changes.get(1).change().spikiness()).isEqualTo(moved.spikiness());
    }

    @Test
    void aProbeOnlyRunWithoutAnnotatorsShowsItsMethodsButAddsNoSpikiness() throws Exception {
        DocumentState s = new DocumentState();
        s.documentId = "d2";
        s.task = "emotions";
        s.labels = List.of("joy", "fear");
        RunState run = s.run("org/model", "run-1");
        run.methods = List.of("unary");
        run.unary = new UnaryEntry(new double[] {1.0, -1.0, 0.0}, new double[] {-1.0, 1.0, 0.0}, 60L);

        Emitted scored = DocumentScoring.score(s, run, PAPER, 1000L);
        assertThat(scored.generationTime()).isEqualTo(60L);
        assertThat(scored.distribution().methods().keySet()).doesNotContainAnyElementsOf(GENERATION_METHODS)
                .isNotEmpty();
        assertThat(scored.spikiness().isEmpty()).isTrue();
        List<Assembled.PendingChange> changes = DocumentScoring.changes(null, scored);
        assertThat(changes).hasSize(1);
        // First contribution: the alignment goes out even all zeros (the methods show with 0 documents).
        assertThat(changes.get(0).change().alignment()).isEqualTo(scored.alignment());
        assertThat(changes.get(0).change().spikiness()).isNull();
    }
}
