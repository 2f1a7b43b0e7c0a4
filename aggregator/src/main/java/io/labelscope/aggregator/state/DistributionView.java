package io.labelscope.aggregator.state;

import java.util.List;
import java.util.Map;

/**
 * A document's distribution for one (model, run), as served by {@code GET /documents/{id}} and written (as the
 * Avro {@code DocumentDistribution}) to the distributions topic.
 */
public record DistributionView(String documentId, String task, String model, String runId, List<String> labels,
                               Map<String, Double> human, int annotators, Map<String, MethodView> methods,
                               long updatedAt, long version, String taskVersion) {
}
