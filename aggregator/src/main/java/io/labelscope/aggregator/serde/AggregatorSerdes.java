package io.labelscope.aggregator.serde;

import io.labelscope.aggregator.document.Assembled;
import io.labelscope.aggregator.metrics.MetricStateRecords;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.labelscope.aggregator.avro.AlignmentTalliesRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.MetricsChangeRecord;
import io.labelscope.aggregator.avro.PendingChangeRecord;
import io.labelscope.aggregator.avro.RoutedAnnotation;
import io.labelscope.aggregator.avro.SpikinessTalliesRecord;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.SpikinessMetric;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

import java.util.List;
import java.util.Map;

/**
 * Every serde of the topology, declared once: Confluent-format Avro through the registry for the public output
 * topics, Avro records generated from {@code src/main/avro} ({@link InternalAvroSerde}, no registry) for the two
 * repartition topics and every state store (documents, pending metric changes, metric aggregates). Inputs are
 * read as bytes and decoded by {@link InputDecoder}, so a bad record is dead-lettered instead of failing the stream thread.
 */
public final class AggregatorSerdes {

    public final Serde<String> key = Serdes.String();
    public final Serde<byte[]> rawValue = Serdes.ByteArray();

    public final Serde<DocumentDistribution> distribution;
    public final Serde<AlignmentMetric> alignmentMetric;
    public final Serde<SpikinessMetric> spikinessMetric;
    public final Serde<DeadLetter> deadLetter;

    /**
     * The documents' state as written before runs kept their task version (issue #15 item 6): still read, the
     * version null (such runs are the configuration without a version).
     */
    static final Schema DOCUMENT_STATE_BEFORE_TASK_VERSION = olderSchema("DocumentStateRecord-before-task-version");

    public final Serde<DocumentStateRecord> documentState = new InternalAvroSerde<>(
            DocumentStateRecord.getClassSchema(), List.of(DOCUMENT_STATE_BEFORE_TASK_VERSION));
    public final Serde<AlignmentTallies> alignmentTallies = InternalAvroSerde.mapped(
            AlignmentTalliesRecord.getClassSchema(), MetricStateRecords::alignment, MetricStateRecords::alignment);
    public final Serde<SpikinessTallies> spikinessTallies = InternalAvroSerde.mapped(
            SpikinessTalliesRecord.getClassSchema(), MetricStateRecords::spikiness, MetricStateRecords::spikiness);
    public final Serde<Assembled.MetricsChange> metricsChange = InternalAvroSerde.mapped(
            MetricsChangeRecord.getClassSchema(), MetricStateRecords::change, MetricStateRecords::change);
    public final Serde<Assembled.PendingChange> pendingChange = InternalAvroSerde.mapped(
            PendingChangeRecord.getClassSchema(), MetricStateRecords::pending, MetricStateRecords::pending);
    public final Serde<RoutedAnnotation> routedAnnotation = new InternalAvroSerde<>(RoutedAnnotation.getClassSchema());

    /** Registry and serde settings (see {@code AvroSerdeConfig.registry}), also used to decode the inputs. */
    public final Map<String, Object> avroConfig;

    public AggregatorSerdes(Map<String, Object> avroConfig) {
        this.avroConfig = avroConfig;
        this.distribution = avro(avroConfig);
        this.alignmentMetric = avro(avroConfig);
        this.spikinessMetric = avro(avroConfig);
        this.deadLetter = avro(avroConfig);
    }

    /** An earlier version of an internal schema, kept whole (named types inlined) under state-schemas/. */
    private static Schema olderSchema(String name) {
        try (var in = AggregatorSerdes.class.getResourceAsStream("/state-schemas/" + name + ".avsc")) {
            return new Schema.Parser().parse(in);
        } catch (java.io.IOException | NullPointerException e) {
            throw new IllegalStateException("state schema " + name + " is missing from the jar", e);
        }
    }

    /** Output topics are only written here: a serializer that asks the registry once per topic (see there). */
    private static <T extends SpecificRecord> Serde<T> avro(Map<String, Object> config) {
        SchemaIdCachingSerializer<T> serializer = new SchemaIdCachingSerializer<>();
        serializer.configure(config, false);
        AvroKafkaDeserializer<T> deserializer = new AvroKafkaDeserializer<>();
        deserializer.configure(config, false);
        return Serdes.serdeFrom(serializer, deserializer);
    }
}
