package io.labelscope.aggregator.state;

import java.util.List;

/**
 * One annotator's current label set for a document.
 *
 * @param checked whether the labels and the task were checked against the document's (false while they are
 *                still unknown, i.e. the annotation came before any step, generation or probe record)
 * @param source  the original record, kept only while the annotation is unchecked (it may still have to be
 *                dead-lettered); null once checked
 * @param task    the annotation's task, kept only while it is unchecked; null once checked (it is then the
 *                document's task) and in state written before format 2, whose unchecked annotations are then
 *                checked against the label set only
 */
public record AnnotationEntry(String annotatorId, List<String> labels, long annotatedAt, boolean checked,
                              SourceRef source, String task) {
}
