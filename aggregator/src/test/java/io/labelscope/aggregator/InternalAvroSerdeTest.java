package io.labelscope.aggregator;

import io.labelscope.aggregator.avro.RoutedAnnotation;
import io.labelscope.aggregator.metrics.CalibrationTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.state.Emitted;
import io.labelscope.aggregator.state.SourceRef;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InternalAvroSerdeTest {

    private final AggregatorSerdes serdes = new AggregatorSerdes(
            io.labelscope.schemas.serde.AvroSerdeConfig.registry("http://127.0.0.1:9")); // never contacted

    /** As the topology uses it ({@code AggregatorSerdes.routedAnnotation}): the current schema only. */
    private final InternalAvroSerde<RoutedAnnotation> serde = new InternalAvroSerde<>(
            RoutedAnnotation.getClassSchema());

    /** The repartitioned annotation keeps its fields and where it came from (for a later dead letter). */
    @Test
    void annotationOnTheRepartitionTopicRoundTrips() {
        DocumentEvent.AnnotationArrived a = new DocumentEvent.AnnotationArrived(
                Records.annotation("d1", "ann-1", "joy", "fear"),
                new SourceRef("annotations", 1, 42L, null, new byte[] {0, 0, 0, 0, 7, 9}));
        byte[] bytes = serde.serializer().serialize("t", RoutedAnnotations.of(a));
        DocumentEvent.AnnotationArrived back = RoutedAnnotations.arrived(
                serde.deserializer().deserialize("t", bytes));
        assertThat(back.annotation()).isEqualTo(a.annotation());
        assertThat(back.source()).usingRecursiveComparison().isEqualTo(a.source());
    }

    /**
     * A value written with an older version of a schema (here one whose source record had no key yet) is read by
     * the current one through Avro's resolution rules: the missing field takes its default, the rest is kept.
     */
    @Test
    void valueWrittenWithAnOlderSchemaIsReadByTheCurrentOne() throws Exception {
        Schema older = new Schema.Parser().parse("""
                {"type": "record", "name": "RoutedAnnotation", "namespace": "io.labelscope.aggregator.avro",
                 "fields": [
                   {"name": "document_id", "type": "string"},
                   {"name": "task", "type": "string"},
                   {"name": "annotator_id", "type": "string"},
                   {"name": "labels", "type": {"type": "array", "items": "string"}},
                   {"name": "annotated_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
                   {"name": "source", "type": {"type": "record", "name": "SourceRecord", "fields": [
                     {"name": "topic", "type": "string"},
                     {"name": "partition", "type": "int"},
                     {"name": "offset", "type": "long"},
                     {"name": "value", "type": ["null", "bytes"]}]}}]}
                """);
        GenericRecord source = new GenericData.Record(older.getField("source").schema());
        source.put("topic", "annotations");
        source.put("partition", 3);
        source.put("offset", 17L);
        source.put("value", ByteBuffer.wrap(new byte[] {5, 6}));
        GenericRecord written = new GenericData.Record(older);
        written.put("document_id", "d1");
        written.put("task", "emotions");
        written.put("annotator_id", "ann-1");
        written.put("labels", List.of("joy"));
        written.put("annotated_at", 1_700_000_000_000L);
        written.put("source", source);
        ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), older).encode(written);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);

        RoutedAnnotation read = new InternalAvroSerde<RoutedAnnotation>(RoutedAnnotation.getClassSchema(),
                List.of(older)).deserializer().deserialize("t", bytes);

        assertThat(read.getDocumentId()).isEqualTo("d1");
        assertThat(read.getLabels()).containsExactly("joy");
        assertThat(read.getAnnotatedAt()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
        assertThat(read.getSource().getOffset()).isEqualTo(17L);
        assertThat(read.getSource().getKey()).isNull();
        assertThat(read.getSource().getValue()).isEqualTo(ByteBuffer.wrap(new byte[] {5, 6}));

        // Without the older schema the value cannot be resolved: a clear error, not garbage.
        assertThatThrownBy(() -> serde.deserializer().deserialize("t", bytes))
                .isInstanceOf(SerializationException.class).hasMessageContaining("RoutedAnnotation");
    }

    /** The metric sums (aggregates, changes, pending changes) keep every component, a missing part stays missing. */
    @Test
    void metricSumsRoundTrip() {
        Emitted e = DocumentStateSerdeTest.fullState().runs.values().iterator().next().emitted;
        assertThat(roundTrip(serdes.alignmentTallies, e.alignment())).isEqualTo(e.alignment());
        SpikinessTallies spikiness = roundTrip(serdes.spikinessTallies, e.spikiness());
        assertThat(spikiness).isEqualTo(e.spikiness());
        assertThat(spikiness.byCell()).isInstanceOf(java.util.TreeMap.class); // cells in order, as before

        Assembled.MetricsChange alignmentOnly = new Assembled.MetricsChange(e.alignment(), null, null);
        assertThat(roundTrip(serdes.metricsChange, alignmentOnly)).isEqualTo(alignmentOnly);
        Assembled.PendingChange pending = new Assembled.PendingChange(43L,
                new Assembled.MetricsChange(null, e.spikiness(), null));
        assertThat(roundTrip(serdes.pendingChange, pending)).isEqualTo(pending);

        // Reliability diagrams: per method and label, every bin's count and sums.
        CalibrationTallies calibration = CalibrationTallies.ofDocument(List.of("joy", "fear"),
                Map.of("joy", 1.0, "fear", 0.5), Map.of("max_over_generations", Map.of("joy", 0.64, "fear", 0.74),
                        "hard_predictions", Map.of("joy", 1 - 1e-8, "fear", 1e-8)));
        assertThat(roundTrip(serdes.calibrationTallies, calibration)).isEqualTo(calibration);
        Assembled.MetricsChange withCalibration = new Assembled.MetricsChange(e.alignment(), null, calibration);
        assertThat(roundTrip(serdes.metricsChange, withCalibration)).isEqualTo(withCalibration);
        Assembled.PendingChange pendingWithCalibration = new Assembled.PendingChange(44L, withCalibration);
        assertThat(roundTrip(serdes.pendingChange, pendingWithCalibration)).isEqualTo(pendingWithCalibration);
    }

    /**
     * Pending metric changes written before the calibration part existed (version 1 of the schemas, kept under
     * {@code state-schemas/}) are read after the upgrade, with no calibration part; without that older schema
     * they would not be readable at all.
     */
    @Test
    void pendingChangesWrittenBeforeTheCalibrationPartAreRead() throws Exception {
        Schema v1 = InternalAvroSerde.olderVersion("PendingChangeRecord-1.avsc");
        assertThat(v1.getField("change").schema().getField("calibration")).isNull();
        GenericRecord change = new GenericData.Record(v1.getField("change").schema());
        change.put("alignment", null);
        change.put("spikiness", null);
        GenericRecord written = new GenericData.Record(v1);
        written.put("time", 43L);
        written.put("change", change);
        ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(written);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);

        assertThat(serdes.pendingChange.deserializer().deserialize("t", bytes))
                .isEqualTo(new Assembled.PendingChange(43L, new Assembled.MetricsChange(null, null, null)));
    }

    private static <T> T roundTrip(org.apache.kafka.common.serialization.Serde<T> serde, T value) {
        return serde.deserializer().deserialize("t", serde.serializer().serialize("t", value));
    }
}
