package io.labelscope.aggregator;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.labelscope.aggregator.annotate.AnnotationRequests;
import io.labelscope.aggregator.avro.AlignmentTalliesRecord;
import io.labelscope.aggregator.avro.AnnotationCandidateRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.MetricsChangeRecord;
import io.labelscope.aggregator.avro.PendingChangeRecord;
import io.labelscope.aggregator.avro.RoutedAnnotation;
import io.labelscope.aggregator.avro.SpikinessTalliesRecord;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.state.DocumentState;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.SpikinessMetric;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

import java.util.Map;

/**
 * Every serde of the topology, declared once: Confluent-format Avro through the registry for the public output
 * topics, Avro records generated from {@code src/main/avro} ({@link InternalAvroSerde}, no registry) for the two
 * repartition topics and every state store (documents, pending metric changes, metric aggregates). Inputs are
 * read as bytes and decoded by {@link InputDecoder}, so a bad record is dead-lettered instead of failing the stream thread.
 */
final class AggregatorSerdes {

    final Serde<String> key = Serdes.String();
    final Serde<byte[]> rawValue = Serdes.ByteArray();

    final Serde<DocumentDistribution> distribution;
    final Serde<AlignmentMetric> alignmentMetric;
    final Serde<SpikinessMetric> spikinessMetric;
    final Serde<DeadLetter> deadLetter;
    final AnnotationRequests.SubSerdes annotate;

    final Serde<DocumentState> documentState = InternalAvroSerde.mapped(
            DocumentStateRecord.getClassSchema(), DocumentStateRecords::record, DocumentStateRecords::state);
    final Serde<AlignmentTallies> alignmentTallies = InternalAvroSerde.mapped(
            AlignmentTalliesRecord.getClassSchema(), MetricStateRecords::alignment, MetricStateRecords::alignment);
    final Serde<SpikinessTallies> spikinessTallies = InternalAvroSerde.mapped(
            SpikinessTalliesRecord.getClassSchema(), MetricStateRecords::spikiness, MetricStateRecords::spikiness);
    final Serde<Assembled.MetricsChange> metricsChange = InternalAvroSerde.mapped(
            MetricsChangeRecord.getClassSchema(), MetricStateRecords::change, MetricStateRecords::change);
    final Serde<Assembled.PendingChange> pendingChange = InternalAvroSerde.mapped(
            PendingChangeRecord.getClassSchema(), MetricStateRecords::pending, MetricStateRecords::pending);
    final Serde<RoutedAnnotation> routedAnnotation = new InternalAvroSerde<>(RoutedAnnotation.getClassSchema());

    /** Registry and serde settings (see {@code AvroSerdeConfig.registry}), also used to decode the inputs. */
    final Map<String, Object> avroConfig;

    AggregatorSerdes(Map<String, Object> avroConfig) {
        this.avroConfig = avroConfig;
        this.distribution = avro(avroConfig);
        this.alignmentMetric = avro(avroConfig);
        this.spikinessMetric = avro(avroConfig);
        this.deadLetter = avro(avroConfig);
        this.annotate = new AnnotationRequests.SubSerdes(avroConfig,
                new InternalAvroSerde<>(AnnotationCandidateRecord.getClassSchema()), avro(avroConfig), deadLetter);
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
