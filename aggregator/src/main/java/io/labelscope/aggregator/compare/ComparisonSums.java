package io.labelscope.aggregator.compare;

import io.labelscope.aggregator.avro.ComparedDocumentRecord;
import io.labelscope.aggregator.avro.ConfigurationScoresRecord;
import io.labelscope.aggregator.avro.MethodScoresRecord;
import io.labelscope.math.Moments;
import io.labelscope.math.PairedComparison;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * The sufficient statistics of a paired comparison of configurations A and B over some documents (one
 * instance's partitions): per method and metric, the count, Σd and Σd² of the per-document differences
 * d = metric_A − metric_B ({@link Moments}) over the documents on which both have the method scored; and, to
 * choose A and B from, how many annotated documents each configuration has. Parts add up exactly (counts and
 * sums; JSON carries doubles exactly), so every instance sends its part and the asked one adds them and computes
 * the interval once, with paper-math's {@link PairedComparison} (docs/calibration.md §4).
 *
 * @param configurations configuration (as written) → annotated documents of the task
 * @param methods        method → metric ({@link #METRICS}) → sums of the differences
 */
public record ComparisonSums(Map<String, Long> configurations, Map<String, Map<String, Moments>> methods) {

    /** The metrics compared, with how each is read from a document's scores. */
    static final Map<String, ToDoubleFunction<MethodScoresRecord>> METRICS = metrics();

    private static Map<String, ToDoubleFunction<MethodScoresRecord>> metrics() {
        Map<String, ToDoubleFunction<MethodScoresRecord>> m = new LinkedHashMap<>();
        m.put("nll", MethodScoresRecord::getNll);
        m.put("l1", MethodScoresRecord::getL1);
        m.put("example_f1", MethodScoresRecord::getExampleF1);
        return m;
    }

    static ComparisonSums empty() {
        return new ComparisonSums(new TreeMap<>(), new TreeMap<>());
    }

    /** The sums over a store's documents of the request's task (one prefix scan: the key starts with the task). */
    static ComparisonSums of(ReadOnlyKeyValueStore<String, ComparedDocumentRecord> store,
                             CompareResource.Request request) {
        try (KeyValueIterator<String, ComparedDocumentRecord> it = store.prefixScan(
                ComparedDocuments.key(request.task(), ""), new StringSerializer())) {
            Iterator<ComparedDocumentRecord> documents = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return it.hasNext();
                }

                @Override
                public ComparedDocumentRecord next() {
                    return it.next().value;
                }
            };
            return over(documents, request.a(), request.b(), request.method());
        }
    }

    /**
     * The sums over some documents of one task.
     *
     * @param a      configuration A, null to list the configurations only
     * @param b      configuration B, null to list the configurations only
     * @param method one method, null for every method both have
     */
    static ComparisonSums over(Iterator<ComparedDocumentRecord> documents, Configuration a, Configuration b,
                               String method) {
        ComparisonSums sums = empty();
        while (documents.hasNext()) {
            ComparedDocumentRecord doc = documents.next();
            doc.getConfigurations().keySet().forEach(c -> sums.configurations.merge(c, 1L, Long::sum));
            if (a == null || b == null) {
                continue;
            }
            ConfigurationScoresRecord scoresA = doc.getConfigurations().get(a.toString());
            ConfigurationScoresRecord scoresB = doc.getConfigurations().get(b.toString());
            if (scoresA == null || scoresB == null) {
                continue; // not annotated, or not processed by both: not a pair
            }
            for (Map.Entry<String, MethodScoresRecord> m : scoresA.getMethods().entrySet()) {
                MethodScoresRecord ofB = scoresB.getMethods().get(m.getKey());
                if (ofB == null || (method != null && !method.equals(m.getKey()))) {
                    continue;
                }
                Map<String, Moments> byMetric = sums.methods.computeIfAbsent(m.getKey(), k -> new LinkedHashMap<>());
                METRICS.forEach((metric, read) -> byMetric.merge(metric,
                        Moments.of(read.applyAsDouble(m.getValue()) - read.applyAsDouble(ofB)), Moments::plus));
            }
        }
        return sums;
    }

    /** The sums of both parts (their documents are disjoint: each partition is one part's). */
    ComparisonSums plus(ComparisonSums other) {
        ComparisonSums sum = empty();
        for (ComparisonSums part : List.of(this, other)) {
            part.configurations.forEach((c, n) -> sum.configurations.merge(c, n, Long::sum));
            part.methods.forEach((method, byMetric) -> byMetric.forEach((metric, moments) ->
                    sum.methods.computeIfAbsent(method, k -> new LinkedHashMap<>())
                            .merge(metric, moments, Moments::plus)));
        }
        return sum;
    }

    /** As {@code GET /api/compare/part} sends it. */
    Map<String, Object> toJson() {
        Map<String, Object> methodsJson = new TreeMap<>();
        methods.forEach((method, byMetric) -> {
            Map<String, Object> metrics = new LinkedHashMap<>();
            byMetric.forEach((metric, m) -> metrics.put(metric, Map.of("count", m.count(), "sum", m.sum(),
                    "sum_of_squares", m.sumOfSquares())));
            methodsJson.put(method, metrics);
        });
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("configurations", configurations);
        body.put("methods", methodsJson);
        return body;
    }

    /** Read back from {@link #toJson()} as another instance sent it (numbers as any {@link Number}). */
    @SuppressWarnings("unchecked")
    static ComparisonSums fromJson(Map<String, Object> json) {
        ComparisonSums sums = empty();
        ((Map<String, Number>) json.getOrDefault("configurations", Map.of()))
                .forEach((c, n) -> sums.configurations.put(c, n.longValue()));
        ((Map<String, Map<String, Map<String, Number>>>) json.getOrDefault("methods", Map.of()))
                .forEach((method, byMetric) -> byMetric.forEach((metric, m) ->
                        sums.methods.computeIfAbsent(method, k -> new LinkedHashMap<>()).put(metric, new Moments(
                                m.get("count").longValue(), m.get("sum").doubleValue(),
                                m.get("sum_of_squares").doubleValue()))));
        return sums;
    }

    /**
     * The comparison: per method, {@code documents} and per metric {@code mean_difference}, {@code ci95_low},
     * {@code ci95_high} (A − B; null where {@link PairedComparison} says so).
     */
    Map<String, Object> result() {
        Map<String, Object> out = new TreeMap<>();
        methods.forEach((method, byMetric) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("documents", byMetric.values().iterator().next().count());
            byMetric.forEach((metric, moments) -> {
                PairedComparison c = PairedComparison.of(moments);
                Map<String, Object> v = new LinkedHashMap<>();
                v.put("mean_difference", c.meanDifference());
                v.put("ci95_low", c.low());
                v.put("ci95_high", c.high());
                m.put(metric, v);
            });
            out.put(method, m);
        });
        return out;
    }
}
