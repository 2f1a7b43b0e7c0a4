package io.labelscope.aggregator.annotate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.aggregator.avro.AnnotationCandidateRecord;
import io.labelscope.math.AnnotationPriority.Settings;
import io.labelscope.math.AnnotationPriority.Strategy;
import io.labelscope.math.Conventions;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.MethodResult;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pure part of "annotate next" without Kafka Streams: a distribution's candidate, reasons, the merged top n. */
class PrioritiesTest {

    private static DocumentDistribution distribution(String doc, String model, Map<String, Double> human, int n,
                                                     Map<String, MethodResult> methods) {
        return DocumentDistribution.newBuilder().setDocumentId(doc).setTask("t").setModel(model).setRunId("r")
                .setLabels(List.of("joy", "fear")).setHuman(human).setAnnotators(n).setMethods(methods)
                .setUpdatedAt(Instant.ofEpochMilli(5)).setVersion(1).build();
    }

    private static MethodResult mog(double joy, double fear) {
        return MethodResult.newBuilder().setDistribution(Map.of("joy", joy, "fear", fear))
                .setPredicted(joy >= 0.5 ? List.of("joy") : List.of()).build();
    }

    @Test
    void theVotesAreTheHumanDistributionTimesTheAnnotators() {
        // H = 1/3 and 2/3 of three annotators: 1/3·3 is 1 only after rounding (0.333…·3 = 1.0000000000000002 or so).
        AnnotationCandidateRecord c = Priorities.candidate(distribution("d", "m", Map.of("joy", 1.0 / 3, "fear",
                2.0 / 3), 3, Map.of("max_over_generations", mog(0.6, 0.2))));
        assertThat(c.getVotes()).containsExactly(1, 2);
        assertThat(c.getModelP()).containsExactly(0.6, 0.2);
        assertThat(c.getSuggestedLabels()).containsExactly("joy");
        assertThat(Priorities.candidate(distribution("d", "m", null, 0, Map.of("unary_breakdown", mog(0.6, 0.2)))))
                .as("a run without generate").isNull();
        assertThatThrownBy(() -> Priorities.candidate(distribution("d", "m", null, 0, Map.of("max_over_generations",
                MethodResult.newBuilder().setDistribution(Map.of("joy", 0.5)).setPredicted(List.of()).build()))))
                .hasMessageContaining("no probability for label 'fear'");
    }

    @Test
    void aDocumentAtTheMaximumIsNotRequestedUnderAnyStrategy() {
        AnnotationCandidateRecord c = Priorities.candidate(distribution("d", "m", Map.of("joy", 0.5, "fear", 0.5), 2,
                Map.of("max_over_generations", mog(0.5, 0.5))));
        Settings two = Settings.defaults().withMaxAnnotators(2);
        for (Strategy s : Strategy.values()) {
            Suggestion out = Priorities.suggestion(c, s, two, Conventions.paper());
            assertThat(out.priority()).as(s.wireName()).isZero();
            assertThat(out.why()).isEqualTo("2 annotators, the maximum (2): not requested");
        }
        // With room for one more: m = (2·.5 + 1)/4 = .5 is "yes" for both, a no vote gives (1 + 1)/5 = .4:
        // both flip with P(no) = .5.
        Suggestion flip = Priorities.suggestion(c, Strategy.FLIP, Settings.defaults(), Conventions.paper());
        assertThat(flip.priority()).isCloseTo(1.0, within(1e-12));
        assertThat(flip.why()).isEqualTo("2 annotators; 2 decisions one more annotation can flip: "
                + "joy 0.50→0.40 on a no vote (p 0.50, 1 of 2 yes; P 0.50), "
                + "fear 0.50→0.40 on a no vote (p 0.50, 1 of 2 yes; P 0.50)");
    }

    /** Each instance's part is its own top n; ranking their union gives the top n of all documents. */
    @Test
    void theTopOfTheInstancesPartsIsTheTopOfAll() {
        List<Suggestion> all = new ArrayList<>();
        double[] priorities = {0.3, 0.9, 0.9 + 1e-12, 0.1, 0.0, 0.5, 0.9, 0.7};
        for (int i = 0; i < priorities.length; i++) {
            all.add(new Suggestion("doc-" + i, "t", i == 6 ? "m2" : "m1", priorities[i], "flip", 0, "", List.of()));
        }
        all.add(new Suggestion("doc-1", "t", "m0", 0.9, "flip", 0, "", List.of())); // doc-1 of another model
        List<Suggestion> instanceA = Priorities.top(all.subList(0, 4), 3, Conventions.paper());
        List<Suggestion> instanceB = Priorities.top(all.subList(4, all.size()), 3, Conventions.paper());
        List<Suggestion> union = new ArrayList<>(instanceB);
        union.addAll(instanceA);
        List<Suggestion> merged = Priorities.top(union, 4, Conventions.paper());
        assertThat(merged).isEqualTo(Priorities.top(all, 4, Conventions.paper()));
        // 0.9, 0.9 + 1e-12 and 0.9 tie (within 1e-9): by id, one document's models by model name.
        assertThat(merged).extracting(s -> s.documentId() + "@" + s.model())
                .containsExactly("doc-1@m0", "doc-1@m1", "doc-2@m1", "doc-6@m2");
    }
}
