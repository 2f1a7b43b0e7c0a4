package io.labelscope.aggregator.annotate;

import java.util.List;

/**
 * One document and model's annotation priority under one strategy, with the reason for a person: an element of
 * {@code GET /api/annotate/next} (JSON in snake_case) and, for the default strategy, the content of an
 * {@code annotation-requests} record.
 *
 * @param suggestedLabels the model's labels (max-over-generations ≥ 0.5), what an annotation tool pre-selects
 */
public record Suggestion(String documentId, String task, String model, double priority, String strategy,
                         int annotators, String why, List<String> suggestedLabels) {
}
