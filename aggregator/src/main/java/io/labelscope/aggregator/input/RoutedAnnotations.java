package io.labelscope.aggregator.input;

import io.labelscope.aggregator.avro.RoutedAnnotation;
import io.labelscope.aggregator.avro.SourceRecord;
import io.labelscope.schemas.Annotation;

import java.util.List;

/**
 * A decoded annotation as the repartition topic {@code annotations-by-document} carries it (the generated Avro
 * {@link RoutedAnnotation}, see {@link TopologyProducer}) and back: its fields and where it was read from, so
 * that a dead letter written after the repartition still names the {@code annotations} record.
 */
public final class RoutedAnnotations {

    private RoutedAnnotations() {
    }

    public static RoutedAnnotation of(DocumentEvent.AnnotationArrived event) {
        Annotation a = event.annotation();
        return RoutedAnnotation.newBuilder().setDocumentId(a.getDocumentId()).setTask(a.getTask())
                .setAnnotatorId(a.getAnnotatorId()).setLabels(List.copyOf(a.getLabels()))
                .setAnnotatedAt(a.getAnnotatedAt()).setSource(event.source()).build();
    }

    public static DocumentEvent.AnnotationArrived arrived(RoutedAnnotation routed) {
        Annotation a = Annotation.newBuilder().setDocumentId(routed.getDocumentId()).setTask(routed.getTask())
                .setAnnotatorId(routed.getAnnotatorId()).setLabels(routed.getLabels())
                .setAnnotatedAt(routed.getAnnotatedAt()).build();
        return new DocumentEvent.AnnotationArrived(a, routed.getSource());
    }
}
