package io.labelscope.aggregator.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The overview of two instances is the sum of their parts: each part is what {@code GET /api/overview/part}
 * serves (here written by hand and passed through JSON, as the other instance's part arrives).
 */
@SuppressWarnings("unchecked")
class OverviewMergeTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void countsAndPairsAreSummedAndTheLatestUpdateWins() throws Exception {
        Map<String, Object> a = part("127.0.0.1:1", "RUNNING", 10, 7, 3, 2, List.of(
                pair("emotions", "m1", 6, 4, 1, "2026-01-01T00:00:05Z"),
                pair("emotions", "m2", 4, 3, 1, "2026-01-01T00:00:09Z")), List.of());
        Map<String, Object> b = viaJson(part("127.0.0.1:2", "RUNNING", 5, 5, 1, 0, List.of(
                pair("emotions", "m1", 5, 1, 0, "2026-01-01T00:00:05.500Z"),
                pair("topics", "m1", 0, 0, 2, null)), List.of()));

        Map<String, Object> merged = OverviewMerge.merge(List.of(a, b), List.of(), 15);

        assertThat(merged.get("counts")).isEqualTo(Map.of("documents", 15L, "documents_with_distribution", 12L,
                "documents_aligned", 4L, "pending_runs", 2L));
        assertThat(merged.get("pairs")).isEqualTo(List.of(
                // 05.5 s is later than 05 s, though "05Z" sorts after "05.500Z" as text
                pair("emotions", "m1", 11L, 5L, 1L, "2026-01-01T00:00:05.500Z"),
                pair("emotions", "m2", 4, 3, 1, "2026-01-01T00:00:09Z"),
                pair("topics", "m1", 0, 0, 2, null)));
        assertThat(merged.get("streams_state")).isEqualTo("RUNNING");
        assertThat(merged.get("scope")).isEqualTo("all 2 instances");
        assertThat(merged.get("instances")).isEqualTo(List.of(
                Map.of("instance", "127.0.0.1:1", "streams_state", "RUNNING"),
                Map.of("instance", "127.0.0.1:2", "streams_state", "RUNNING")));
    }

    @Test
    void recentDocumentsAreTheNewestOfAllParts() throws Exception {
        Map<String, Object> a = part("a:1", "RUNNING", 3, 3, 0, 0, List.of(),
                List.of(recent("d1", 100), recent("d3", 300), recent("d5", 500)));
        Map<String, Object> b = viaJson(part("b:1", "RUNNING", 3, 3, 0, 0, List.of(),
                List.of(recent("d2", 200), recent("d4", 400), recent("d6", 600))));

        Map<String, Object> merged = OverviewMerge.merge(List.of(a, b), List.of(), 4);

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) merged.get("recent_documents");
        assertThat(rows).extracting(r -> r.get("document_id")).containsExactly("d6", "d5", "d4", "d3");
    }

    @Test
    void eachPairsRecentDocumentsAreTheNewestOfThatPairInAllParts() throws Exception {
        Map<String, Object> m1OnA = pair("emotions", "m1", 2, 0, 0, "2026-01-01T00:00:05Z");
        m1OnA.put("recent_documents", List.of(recent("a1", 100), recent("a3", 300)));
        Map<String, Object> m2OnA = pair("emotions", "m2", 1, 0, 0, "2026-01-01T00:00:09Z");
        m2OnA.put("recent_documents", List.of(recent("x9", 900)));
        Map<String, Object> m1OnB = pair("emotions", "m1", 2, 0, 0, "2026-01-01T00:00:06Z");
        m1OnB.put("recent_documents", List.of(recent("b2", 200), recent("b4", 400)));
        Map<String, Object> a = part("a:1", "RUNNING", 3, 3, 0, 0, List.of(m1OnA, m2OnA), List.of());
        Map<String, Object> b = viaJson(part("b:1", "RUNNING", 2, 2, 0, 0, List.of(m1OnB), List.of()));

        Map<String, Object> merged = OverviewMerge.merge(List.of(a, b), List.of(), 3);

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> pairs = (List<Map<String, Object>>) merged.get("pairs");
        assertThat(pairs).hasSize(2);
        assertThat(pairs.get(0).get("model")).isEqualTo("m1");
        assertThat((List<Map<String, Object>>) pairs.get(0).get("recent_documents"))
                .as("m1's newest 3 of both instances, newest first; m2's x9 is not among them")
                .extracting(r -> r.get("document_id")).containsExactly("b4", "a3", "b2");
        assertThat((List<Map<String, Object>>) pairs.get(1).get("recent_documents"))
                .extracting(r -> r.get("document_id")).containsExactly("x9");
    }

    @Test
    void deadLettersAreSummedByErrorTypeAndTheNewestReasonWins() throws Exception {
        Map<String, Object> a = part("a:1", "RUNNING", 0, 0, 0, 0, List.of(), List.of());
        ((Map<String, Object>) a.get("counts")).put("dead_letters", 5L);
        a.put("dead_letters", Map.of(
                "model_failure", deadLetters(3, "no model serves task 'sentiment'", 2_000),
                "undecodable", deadLetters(2, "not Avro (first byte 0x7b)", 1_000)));
        Map<String, Object> b = part("b:1", "RUNNING", 0, 0, 0, 0, List.of(), List.of());
        ((Map<String, Object>) b.get("counts")).put("dead_letters", 5L);
        b.put("dead_letters", Map.of(
                "model_failure", deadLetters(1, "an older reason", 1_500),
                "unknown_label", deadLetters(4, "label 'joyy' is not one of [joy, fear]", 3_000)));

        Map<String, Object> merged = OverviewMerge.merge(List.of(viaJson(b), viaJson(a)), List.of(), 15);

        assertThat(((Map<String, Object>) merged.get("counts")).get("dead_letters")).isEqualTo(10L);
        assertThat(merged.get("dead_letters")).isEqualTo(Map.of(
                // b's model_failure is older: a's reason is the latest, whichever part came first
                "model_failure", deadLetters(4, "no model serves task 'sentiment'", 2_000),
                "undecodable", deadLetters(2, "not Avro (first byte 0x7b)", 1_000),
                "unknown_label", deadLetters(4, "label 'joyy' is not one of [joy, fear]", 3_000)));
    }

    @Test
    void deadLettersOfTheSameMillisecondMergeAlikeInEitherOrder() throws Exception {
        Map<String, Object> a = part("a:1", "RUNNING", 0, 0, 0, 0, List.of(), List.of());
        a.put("dead_letters", Map.of("unknown_label", deadLetters(1, "label 'a' is not one of [joy]", 5_000)));
        Map<String, Object> b = part("b:1", "RUNNING", 0, 0, 0, 0, List.of(), List.of());
        b.put("dead_letters", Map.of("unknown_label", deadLetters(1, "label 'b' is not one of [joy]", 5_000)));

        Object fromA = OverviewMerge.merge(List.of(a, viaJson(b)), List.of(), 15).get("dead_letters");
        Object fromB = OverviewMerge.merge(List.of(b, viaJson(a)), List.of(), 15).get("dead_letters");

        assertThat(fromA).as("every instance shows the same").isEqualTo(fromB)
                .isEqualTo(Map.of("unknown_label", deadLetters(2, "label 'b' is not one of [joy]", 5_000)));
    }

    @Test
    void throughputIsSummedWhereKnown() throws Exception {
        Map<String, Object> a = part("a:1", "RUNNING", 0, 0, 0, 0, List.of(), List.of());
        a.put("throughput", throughput(12.5, 3.0, Map.of("label-steps", 2.0), Map.of("sent.distributions", 40.0)));
        Map<String, Object> b = part("b:1", "RUNNING", 0, 0, 0, 0, List.of(), List.of());
        b.put("throughput", throughput(null, 4.0, Map.of("label-steps", 1.0, "annotations", 3.0),
                Map.of("sent.distributions", 2.0)));

        Map<String, Object> merged = OverviewMerge.merge(List.of(a, viaJson(b)), List.of(), 15);

        @SuppressWarnings("unchecked")
        Map<String, Object> t = (Map<String, Object>) merged.get("throughput");
        assertThat(t.get("distributions_per_second")).as("b has no rate yet: a's alone").isEqualTo(12.5);
        assertThat(t.get("records_lag")).isEqualTo(7.0);
        assertThat(t.get("records_lag_by_topic")).isEqualTo(Map.of("label-steps", 3.0, "annotations", 3.0));
        assertThat(t.get("totals")).isEqualTo(Map.of("sent.distributions", 42.0));
    }

    @Test
    void anInstanceThatDoesNotAnswerMakesThePicturePartial() {
        Map<String, Object> a = part("a:1", "RUNNING", 4, 4, 4, 0, List.of(), List.of());

        Map<String, Object> merged = OverviewMerge.merge(List.of(a), List.of("b:1 (connection refused)"), 15);

        assertThat(merged.get("streams_state")).isEqualTo("UNREACHABLE");
        assertThat(merged.get("instances_unreachable")).isEqualTo(List.of("b:1 (connection refused)"));
        assertThat((String) merged.get("scope")).contains("1 of 2 instances", "b:1");
        assertThat(merged.get("counts")).isEqualTo(Map.of("documents", 4L, "documents_with_distribution", 4L,
                "documents_aligned", 4L, "pending_runs", 0L));
    }

    @Test
    void anInstanceNotRunningIsTheStateShown() throws Exception {
        Map<String, Object> a = part("a:1", "RUNNING", 0, 0, 0, 0, List.of(), List.of());
        Map<String, Object> b = part("b:1", "REBALANCING", 0, 0, 0, 0, List.of(), List.of());

        assertThat(OverviewMerge.merge(List.of(a, viaJson(b)), List.of(), 15).get("streams_state"))
                .isEqualTo("REBALANCING");
    }

    private static Map<String, Object> part(String instance, String state, long documents, long withDistribution,
                                            long aligned, long pending, List<Map<String, Object>> pairs,
                                            List<Map<String, Object>> recent) {
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("documents", documents);
        counts.put("documents_with_distribution", withDistribution);
        counts.put("documents_aligned", aligned);
        counts.put("pending_runs", pending);
        Map<String, Object> part = new LinkedHashMap<>();
        part.put("generated_at", "2026-01-01T00:00:10Z");
        part.put("instance", instance);
        part.put("streams_state", state);
        part.put("counts", counts);
        part.put("pairs", new ArrayList<>(pairs));
        part.put("recent_documents", new ArrayList<>(recent));
        part.put("throughput", Map.of());
        part.put("scope", "partitions hosted by this instance");
        return part;
    }

    private static Map<String, Object> pair(String task, String model, long documents, long aligned, long pending,
                                            String lastUpdate) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", task);
        m.put("model", model);
        m.put("documents", documents);
        m.put("documents_aligned", aligned);
        m.put("pending_runs", pending);
        m.put("last_update", lastUpdate);
        return m;
    }

    private static Map<String, Object> recent(String id, long updatedAtMs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("document_id", id);
        m.put("updated_at_ms", updatedAtMs);
        return m;
    }

    /** One error type's dead letters as a part reports them ({@code DashboardViews.deadLetters}). */
    private static Map<String, Object> deadLetters(long count, String latestReason, long latestFailedAtMs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", count);
        m.put("latest_reason", latestReason);
        m.put("latest_source_topic", "documents");
        m.put("latest_rejected_by", "inference-worker");
        m.put("latest_failed_at", java.time.Instant.ofEpochMilli(latestFailedAtMs).toString());
        m.put("latest_failed_at_ms", latestFailedAtMs);
        return m;
    }

    private static Map<String, Object> throughput(Double distributions, double lag, Map<String, Double> lagByTopic,
                                                  Map<String, Double> totals) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("distributions_per_second", distributions);
        m.put("records_lag", lag);
        m.put("records_lag_by_topic", lagByTopic);
        m.put("totals", totals);
        return m;
    }

    /** As the other instance's part arrives: JSON text read back (small numbers become Integers). */
    private static Map<String, Object> viaJson(Map<String, Object> part) throws Exception {
        return JSON.readValue(JSON.writeValueAsString(part), new TypeReference<Map<String, Object>>() { });
    }
}
