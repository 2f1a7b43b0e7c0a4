package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.aggregator.annotate.Suggestion;
import io.labelscope.schemas.AnnotationRequest;
import io.labelscope.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

/**
 * Issue #18 item 2 on both pipelines (TopologyTestDriver and the service on the real broker): the
 * {@code annotation-requests} topic follows each document's distribution, and "annotate next" ranks every
 * partition's documents. The document is the scenarios' (max-over-generations p = [.6, .7, .1] over joy, fear,
 * anger); priorities worked out by hand with docs/annotate-next.md's defaults (s = 2, at most 10 annotators):
 * <ul>
 *   <li>no annotator: m = p; joy .6 is "yes" and a no vote gives 1.2/3 = .4, so it flips with P(no) = .4; fear
 *   .7 → 1.4/3 = .467 flips with .3; anger .1 → a yes vote gives 1.2/3 = .4, no flip. Priority .7.</li>
 *   <li>one annotator, [anger] (k = [0,0,1]): m = [1.2/3, 1.4/3, 1.2/3] = [.4, .467, .4], all "no"; a yes vote
 *   gives [2.2/4, 2.4/4, 2.2/4] = [.55, .6, .55], all flip: .4 + 1.4/3 + .4 = 19/15.</li>
 *   <li>one annotator, [joy, fear] (k = [1,1,0]): m = [2.2/3, 2.4/3, .2/3]; a no vote leaves joy 2.2/4 = .55 and
 *   fear 2.4/4 = .6 "yes", a yes vote lifts anger to 1.2/4 = .3 only: priority 0.</li>
 *   <li>two annotators, [anger] and [joy, fear] (k = [1,1,1]): m = [2.2/4, 2.4/4, 1.2/4] = [.55, .6, .3]; a no
 *   vote drops joy to 2.2/5 = .44 (P .45) and fear to 2.4/5 = .48 (P .4); anger lifted to 2.2/5 = .44 does not
 *   flip: .85.</li>
 * </ul>
 */
interface AnnotateNextScenarios {



    Pipeline pipeline();

    private void document(String model, String doc) {
        pipeline().send(Topics.LABEL_STEPS, doc, Records.step(model, doc, 0, 2, "joy", 6, 2, 1, 1), Records.T0);
        pipeline().send(Topics.LABEL_STEPS, doc, Records.step(model, doc, 1, 2, "fear", 1, 7, 1, 1), Records.T0);
        pipeline().send(Topics.GENERATIONS, doc, Records.generation(model, doc, 2, Records.T0, "joy", "fear"),
                Records.T0);
    }

    private void annotate(String doc, String annotator, String... labels) {
        pipeline().send(Topics.ANNOTATIONS, doc, Records.annotation(doc, annotator, labels), Records.T0);
    }

    /** Every change of the document's distribution re-states its priority, one record per document and model. */
    @Test
    default void annotationRequestsFollowTheAnnotations() {
        String model = "m-annotate-follow";
        String doc = "annotate-follow";
        document(model, doc);
        List<AnnotationRequest> out = pipeline().annotationRequests(doc, 1);
        assertThat(out).hasSize(1);
        AnnotationRequest first = out.get(0);
        assertThat(first.getTask()).isEqualTo(Records.TASK);
        assertThat(first.getModel()).isEqualTo(model);
        assertThat(first.getStrategy()).isEqualTo("flip");
        assertThat(first.getAnnotators()).isZero();
        assertThat(first.getPriority()).isCloseTo(0.7, within(AggregatorScenarios.TOL));
        assertThat(first.getSuggestedLabels()).containsExactly("joy", "fear");
        assertThat(first.getWhy()).startsWith("0 annotators; 2 decisions one more annotation can flip: joy");

        annotate(doc, "ann-1", "anger");
        out = pipeline().annotationRequests(doc, 2);
        assertThat(out).hasSize(2);
        assertThat(out.get(1).getAnnotators()).isEqualTo(1);
        assertThat(out.get(1).getPriority()).isCloseTo(19.0 / 15, within(AggregatorScenarios.TOL));

        annotate(doc, "ann-2", "joy", "fear");
        out = pipeline().annotationRequests(doc, 3);
        assertThat(out).hasSize(3);
        assertThat(out.get(2).getAnnotators()).isEqualTo(2);
        assertThat(out.get(2).getPriority()).isCloseTo(0.85, within(AggregatorScenarios.TOL));

        List<Suggestion> next = pipeline().annotateNext(Records.TASK, model, 5, null,
                l -> l.size() == 1 && l.get(0).annotators() == 2);
        assertThat(next).singleElement().satisfies(s -> {
            assertThat(s.documentId()).isEqualTo(doc);
            assertThat(s.priority()).isCloseTo(0.85, within(AggregatorScenarios.TOL));
            assertThat(s.strategy()).isEqualTo("flip");
        });
    }

    /**
     * The top n of documents on several partitions (three on the broker, see the assertion): highest first,
     * ties by id, priority 0 left out; the other strategies computed on request from the same documents.
     */
    @Test
    default void annotateNextRanksEveryPartition() {
        String model = "m-annotate-rank";
        List<String> docs = List.of("next-a", "next-b", "next-c", "next-d", "next-e");
        Set<Integer> partitions = docs.stream().map(d -> Utils.toPositive(Utils.murmur2(
                d.getBytes(StandardCharsets.UTF_8))) % PlatformWithTopics.PARTITIONS).collect(Collectors.toSet());
        assertThat(partitions).as("partitions of the documents on the broker").hasSizeGreaterThan(1);
        docs.forEach(d -> document(model, d));
        annotate("next-b", "ann-1", "anger");             // 19/15
        annotate("next-c", "ann-1", "joy", "fear");       // 0
        annotate("next-d", "ann-1", "anger");
        annotate("next-d", "ann-2", "joy", "fear");       // .85
        pipeline().annotationRequests("next-d", 3);      // rank-a and rank-e stay at .7

        List<Suggestion> flip = pipeline().annotateNext(Records.TASK, model, 10, "flip",
                l -> l.size() == 4 && l.get(1).annotators() == 2);
        assertThat(flip).extracting(Suggestion::documentId).containsExactly("next-b", "next-d", "next-a", "next-e");
        double[] expected = {19.0 / 15, 0.85, 0.7, 0.7};
        for (int i = 0; i < expected.length; i++) {
            assertThat(flip.get(i).priority()).isCloseTo(expected[i], within(AggregatorScenarios.TOL));
        }
        assertThat(pipeline().annotateNext(Records.TASK, model, 2, null, l -> true))
                .extracting(Suggestion::documentId).containsExactly("next-b", "next-d");

        // Uncertainty ignores the humans: five equal priorities, by id. Disagreement: L1 = 3 (the number of
        // labels) without annotators, .6 + .7 + .9 = 2.2 for [anger], .4 + .3 + .1 = .8 for [joy, fear], and
        // .1 + .2 + .4 = .7 for H = [.5, .5, .5].
        assertThat(pipeline().annotateNext(Records.TASK, model, 10, "uncertainty", l -> l.size() == 5))
                .extracting(Suggestion::documentId).containsExactly("next-a", "next-b", "next-c", "next-d", "next-e");
        List<Suggestion> disagreement = pipeline().annotateNext(Records.TASK, model, 10, "disagreement",
                l -> l.size() == 5);
        assertThat(disagreement).extracting(Suggestion::documentId)
                .containsExactly("next-a", "next-e", "next-b", "next-c", "next-d");
        assertThat(disagreement.get(2).priority()).isCloseTo(2.2, within(1e-9));
        assertThat(disagreement.get(4).priority()).isCloseTo(0.7, within(1e-9));
    }
}
