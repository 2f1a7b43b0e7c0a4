package io.labelscope.aggregator;

import io.labelscope.aggregator.avro.RoutedAnnotation;
import io.labelscope.aggregator.avro.SourceRecord;
import io.labelscope.aggregator.state.SourceRef;
import io.labelscope.schemas.Annotation;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A decoded annotation as the repartition topic {@code annotations-by-document} carries it (the generated Avro
 * {@link RoutedAnnotation}, see {@link TopologyProducer}) and back: its fields and where it was read from, so
 * that a dead letter written after the repartition still names the {@code annotations} record.
 */
final class RoutedAnnotations {

    private RoutedAnnotations() {
    }

    static RoutedAnnotation of(DocumentEvent.AnnotationArrived event) {
        Annotation a = event.annotation();
        return RoutedAnnotation.newBuilder().setDocumentId(a.getDocumentId()).setTask(a.getTask())
                .setAnnotatorId(a.getAnnotatorId()).setLabels(List.copyOf(a.getLabels()))
                .setAnnotatedAt(a.getAnnotatedAt()).setSource(sourceRecord(event.source())).build();
    }

    static DocumentEvent.AnnotationArrived arrived(RoutedAnnotation routed) {
        Annotation a = Annotation.newBuilder().setDocumentId(routed.getDocumentId()).setTask(routed.getTask())
                .setAnnotatorId(routed.getAnnotatorId()).setLabels(routed.getLabels())
                .setAnnotatedAt(routed.getAnnotatedAt()).build();
        return new DocumentEvent.AnnotationArrived(a, sourceRef(routed.getSource()));
    }

    /** Where a record came from, as the repartition topic and the documents' state keep it. */
    static SourceRecord sourceRecord(SourceRef s) {
        return SourceRecord.newBuilder().setTopic(s.topic()).setPartition(s.partition()).setOffset(s.offset())
                .setKey(s.key()).setValue(s.value() == null ? null : ByteBuffer.wrap(s.value())).build();
    }

    static SourceRef sourceRef(SourceRecord s) {
        byte[] value = null;
        if (s.getValue() != null) {
            ByteBuffer buffer = s.getValue().duplicate();
            value = new byte[buffer.remaining()];
            buffer.get(value);
        }
        return new SourceRef(s.getTopic(), s.getPartition(), s.getOffset(), s.getKey(), value);
    }
}
