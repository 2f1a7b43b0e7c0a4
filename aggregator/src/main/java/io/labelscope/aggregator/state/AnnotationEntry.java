package io.labelscope.aggregator.state;

import java.util.List;

/**
 * One annotator's current label set for a document.
 *
 * @param checked whether the labels were checked against the document's label set (false while the set is
 *                still unknown, i.e. the annotation came before any step or generation)
 */
public record AnnotationEntry(String annotatorId, List<String> labels, long annotatedAt, boolean checked,
                              SourceRef source) {
}
