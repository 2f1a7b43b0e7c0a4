package io.labelscope.aggregator.document;

import io.labelscope.aggregator.metrics.MetricStateRecords;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.aggregator.avro.AnnotationStateRecord;
import io.labelscope.aggregator.avro.DistributionStateRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.EmittedRecord;
import io.labelscope.aggregator.avro.GenerationStateRecord;
import io.labelscope.aggregator.avro.MethodStateRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.aggregator.avro.StepRecord;
import io.labelscope.aggregator.avro.UnaryStateRecord;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.math.Conventions;
import io.labelscope.math.Moments;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Scoring as a pure function of a document's state: no Kafka Streams, no stores. */
class DocumentScoringTest {

    private static final Conventions PAPER = Conventions.paper();
    private static final List<String> GENERATION_METHODS = List.of("compare_to_none", "first_step",
            "hard_predictions", "max_over_generations");

    private static DocumentStateRecord generatedDocument() {
        DocumentStateRecord s = DocumentStates.empty("d1");
        s.setTask("emotions");
        s.setLabels(List.of("joy", "fear"));
        RunRecord run = DocumentStates.run(s, "org/model", "run-1");
        run.setMethods(List.of("generate"));
        DocumentStates.putStep(run, new StepRecord(0, 1, "joy", NamedDoubles.of(new double[] {2.0, 0.0, -1.0}), 42L));
        run.setGeneration(new GenerationStateRecord(List.of("joy"), 1, 43L, "joy"));
        DocumentStates.putAnnotation(s, new AnnotationStateRecord("a1", List.of("joy"), 7L, true, null, null));
        return s;
    }

    private static RunRecord run(DocumentStateRecord s) {
        return s.getRuns().get(0);
    }

    private static AlignmentTallies alignment(EmittedRecord e) {
        return MetricStateRecords.alignment(e.getAlignment());
    }

    private static SpikinessTallies spikiness(EmittedRecord e) {
        return MetricStateRecords.spikiness(e.getSpikiness());
    }

    private static List<String> methodNames(DistributionStateRecord d) {
        return d.getMethods().stream().map(MethodStateRecord::getName).toList();
    }

    @Test
    void aCompleteGeneratedRunIsScoredWithItsShareOfTheMetrics() throws Exception {
        DocumentStateRecord s = generatedDocument();
        EmittedRecord scored = DocumentScoring.score(s, run(s), PAPER, 1000L);

        assertThat(scored.getGenerationTime()).isEqualTo(43L);
        assertThat(scored.getDistribution().getVersion()).isEqualTo(1);
        assertThat(scored.getDistribution().getUpdatedAt()).isEqualTo(1000L);
        assertThat(scored.getDistribution().getAnnotators()).isEqualTo(1);
        assertThat(NamedDoubles.map(scored.getDistribution().getHuman(), s.getLabels())).containsExactly(Map.entry("joy", 1.0), Map.entry("fear", 0.0));
        // A generate-only run has the four generation methods, no breakdowns.
        assertThat(methodNames(scored.getDistribution())).containsExactlyInAnyOrderElementsOf(GENERATION_METHODS);
        assertThat(alignment(scored).byMethod().keySet()).containsExactlyElementsOf(GENERATION_METHODS);
        assertThat(alignment(scored).byMethod().get("first_step").nll().count()).isEqualTo(1);
        assertThat(spikiness(scored).byCell()).containsKeys(SpikinessTallies.ANSWER_CELL, "last/0");

        List<Assembled.PendingChange> first = DocumentScoring.changes(null, scored);
        assertThat(first).hasSize(1);
        assertThat(first.get(0).time()).isEqualTo(43L);
        assertThat(first.get(0).change().alignment()).isEqualTo(alignment(scored));
        assertThat(first.get(0).change().spikiness()).isEqualTo(spikiness(scored));
    }

    @Test
    void aDuplicateChangesNothingAndANewVoteChangesOnlyTheAlignment() throws Exception {
        DocumentStateRecord s = generatedDocument();
        run(s).setEmitted(DocumentScoring.score(s, run(s), PAPER, 1000L));
        // The same records again, later: nothing new.
        assertThat(DocumentScoring.unchanged(run(s).getEmitted(), DocumentScoring.score(s, run(s), PAPER, 2000L)))
                .isTrue();

        DocumentStates.putAnnotation(s, new AnnotationStateRecord("a2", List.of("fear"), 8L, true, null, null));
        EmittedRecord rescored = DocumentScoring.score(s, run(s), PAPER, 3000L);
        assertThat(DocumentScoring.unchanged(run(s).getEmitted(), rescored)).isFalse();
        assertThat(rescored.getDistribution().getVersion()).isEqualTo(2);
        List<Assembled.PendingChange> changes = DocumentScoring.changes(run(s).getEmitted(), rescored);
        assertThat(changes).hasSize(1);
        assertThat(changes.get(0).time()).isEqualTo(43L);
        assertThat(changes.get(0).change().spikiness()).isNull(); // the steps did not change
        // Old share out, new share in: the all-time sum counts the document once, now with a 2-vote human.
        Moments oldNll = alignment(run(s).getEmitted()).byMethod().get("first_step").nll();
        Moments newNll = alignment(rescored).byMethod().get("first_step").nll();
        Moments change = changes.get(0).change().alignment().byMethod().get("first_step").nll();
        assertThat(change.count()).isZero();
        assertThat(newNll.sum()).isNotEqualTo(oldNll.sum());
        assertThat(change.sum()).isCloseTo(newNll.sum() - oldNll.sum(), within(1e-12));
    }

    @Test
    void aGenerationResentWithAnotherTimeMovesItsShareToThatTime() throws Exception {
        DocumentStateRecord s = generatedDocument();
        EmittedRecord old = DocumentScoring.score(s, run(s), PAPER, 1000L);
        run(s).setEmitted(old);
        run(s).setGeneration(new GenerationStateRecord(List.of("joy"), 1, 50L, "joy"));
        EmittedRecord moved = DocumentScoring.score(s, run(s), PAPER, 2000L);

        List<Assembled.PendingChange> changes = DocumentScoring.changes(old, moved);
        assertThat(changes).extracting(Assembled.PendingChange::time).containsExactly(43L, 50L);
        assertThat(changes.get(0).change().alignment()).isEqualTo(alignment(old).negate());
        assertThat(changes.get(0).change().spikiness()).isEqualTo(spikiness(old).negate());
        assertThat(changes.get(1).change().spikiness()).isEqualTo(spikiness(moved));
    }

    @Test
    void aProbeOnlyRunWithoutAnnotatorsShowsItsMethodsButAddsNoSpikiness() throws Exception {
        DocumentStateRecord s = DocumentStates.empty("d2");
        s.setTask("emotions");
        s.setLabels(List.of("joy", "fear"));
        RunRecord run = DocumentStates.run(s, "org/model", "run-1");
        run.setMethods(List.of("unary"));
        run.setUnary(new UnaryStateRecord(List.of(1.0, -1.0, 0.0), List.of(-1.0, 1.0, 0.0), 60L));

        EmittedRecord scored = DocumentScoring.score(s, run, PAPER, 1000L);
        assertThat(scored.getGenerationTime()).isEqualTo(60L);
        assertThat(methodNames(scored.getDistribution())).doesNotContainAnyElementsOf(GENERATION_METHODS)
                .isNotEmpty();
        assertThat(spikiness(scored).isEmpty()).isTrue();
        List<Assembled.PendingChange> changes = DocumentScoring.changes(null, scored);
        assertThat(changes).hasSize(1);
        // First contribution: the alignment goes out even all zeros (the methods show with 0 documents).
        assertThat(changes.get(0).change().alignment()).isEqualTo(alignment(scored));
        assertThat(changes.get(0).change().spikiness()).isNull();
    }
}
