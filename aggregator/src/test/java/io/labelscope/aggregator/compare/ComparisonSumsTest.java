package io.labelscope.aggregator.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.aggregator.avro.ComparedDocumentRecord;
import io.labelscope.aggregator.avro.ConfigurationScoresRecord;
import io.labelscope.aggregator.avro.MethodScoresRecord;
import io.labelscope.math.PairedComparison;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/**
 * Several instances' parts of a comparison add up to the comparison of all their documents: each instance
 * sends its sums as {@code GET /api/compare/part} does (JSON through Jackson), the asked one adds them.
 */
class ComparisonSumsTest {

    static final Configuration A = Configuration.parse("model-a");
    static final Configuration B = Configuration.parse("org/model@b@0123456789ab");

    /** A document both scored: A's and B's (nll, l1, f1) of max-over-generations. */
    static ComparedDocumentRecord document(String id, double[] a, double[] b) {
        return new ComparedDocumentRecord("t", id, Map.of(
                A.toString(), new ConfigurationScoresRecord(A.model(), A.version(), Map.of("max_over_generations",
                        new MethodScoresRecord(a[0], a[1], a[2]))),
                B.toString(), new ConfigurationScoresRecord(B.model(), B.version(), Map.of("max_over_generations",
                        new MethodScoresRecord(b[0], b[1], b[2]), "first_step", new MethodScoresRecord(1.0, 1.0, 1.0)))));
    }

    static ComparisonSums overJson(List<ComparedDocumentRecord> docs) throws Exception {
        ObjectMapper json = new ObjectMapper();
        String sent = json.writeValueAsString(ComparisonSums.over(docs.iterator(), A, B, null).toJson());
        return ComparisonSums.fromJson(json.readValue(sent, new TypeReference<Map<String, Object>>() { }));
    }

    @Test
    void partsOfTwoInstancesAddUpToTheWholeComparison() throws Exception {
        ComparedDocumentRecord d1 = document("d1", new double[] {1.30, 0.7, 1.0}, new double[] {2.10, 0.9, 0.5});
        ComparedDocumentRecord d2 = document("d2", new double[] {0.25, 0.1, 1.0}, new double[] {0.20, 0.3, 1.0});
        ComparedDocumentRecord d3 = document("d3", new double[] {3.00, 1.9, 0.0}, new double[] {1.00, 1.1, 2.0 / 3});
        ComparedDocumentRecord onlyA = new ComparedDocumentRecord("t", "d4", Map.of(A.toString(),
                new ConfigurationScoresRecord(A.model(), null, Map.of("max_over_generations",
                        new MethodScoresRecord(9.0, 9.0, 9.0)))));

        ComparisonSums merged = overJson(List.of(d1, onlyA)).plus(overJson(List.of(d2, d3)));
        Map<String, Object> result = merged.result();

        @SuppressWarnings("unchecked")
        Map<String, Object> mog = (Map<String, Object>) result.get("max_over_generations");
        assertThat(result).as("first_step: B only").containsOnlyKeys("max_over_generations");
        assertThat(mog.get("documents")).isEqualTo(3L);
        PairedComparison expected = PairedComparison.of(new double[] {1.30, 0.25, 3.00}, new double[] {2.10, 0.20, 1.00});
        @SuppressWarnings("unchecked")
        Map<String, Double> nll = (Map<String, Double>) mog.get("nll");
        assertThat(nll.get("mean_difference")).isCloseTo(expected.meanDifference(), within(1e-15));
        assertThat(nll.get("ci95_low")).isCloseTo(expected.low(), within(1e-12));
        assertThat(nll.get("ci95_high")).isCloseTo(expected.high(), within(1e-12));
        // by hand: d = (−0.8, 0.05, 2.0), mean 1.25/3
        assertThat(nll.get("mean_difference")).isCloseTo(1.25 / 3, within(1e-15));
        // the parts' sums are the whole's (JSON carries doubles exactly; only the order of the float additions
        // differs, by an ulp)
        overJson(List.of(d1, d2, d3, onlyA)).methods().get("max_over_generations").forEach((metric, whole) -> {
            var part = merged.methods().get("max_over_generations").get(metric);
            assertThat(part.count()).isEqualTo(whole.count());
            assertThat(part.sum()).as(metric).isCloseTo(whole.sum(), within(1e-15));
            assertThat(part.sumOfSquares()).as(metric).isCloseTo(whole.sumOfSquares(), within(1e-15));
        });
        assertThat(merged.configurations()).containsExactly(Map.entry("model-a", 4L),
                Map.entry("org/model@b@0123456789ab", 3L));
    }

    @Test
    void aConfigurationIsAModelOrAModelAtAVersion() {
        assertThat(B).isEqualTo(new Configuration("org/model@b", "0123456789ab"));
        assertThat(Configuration.parse("org/model@b")).isEqualTo(new Configuration("org/model@b", null));
        assertThat(Configuration.parse("m@0123456789ab").toString()).isEqualTo("m@0123456789ab");
        assertThat(new Configuration("m", "").toString()).isEqualTo("m");
    }
}
