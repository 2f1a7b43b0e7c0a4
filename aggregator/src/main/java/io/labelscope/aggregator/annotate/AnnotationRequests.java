package io.labelscope.aggregator.annotate;

import io.labelscope.aggregator.avro.AnnotationCandidateRecord;
import io.labelscope.math.AnnotationPriority.Settings;
import io.labelscope.math.AnnotationPriority.Strategy;
import io.labelscope.math.Conventions;
import io.labelscope.schemas.AnnotationRequest;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.DeadLetters;
import io.labelscope.schemas.serde.Decoded;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The live "annotate next" (issue #18 item 2): a sub-topology of its own reads {@code distributions} (this
 * service's own product, key = document id), keeps per document and model what every strategy needs (state
 * store {@value #STORE}, RocksDB + changelog, key model|document id) and writes the default strategy's priority
 * to the compacted {@code annotation-requests}, one record per document and model, priority 0 included.
 *
 * <p>Why from {@code distributions} and not inside the document assembler: a distribution is re-emitted exactly
 * when a document's steps or annotations change, and it carries everything a priority needs (p as published, H
 * and n), so this reads like the data flow and leaves the assembler alone. The store is what lets
 * {@code GET /api/annotate/next} compute the other strategies on request, and the top n of every strategy, from
 * the partitions each instance hosts. Exactly-once holds as for the other sub-topologies: the store, the
 * output and the read offsets of {@code distributions} commit in one transaction, read {@code read_committed}.
 *
 * <p>A value on {@code distributions} that cannot be read, or whose max-over-generations lacks a label or is
 * not a probability, becomes a dead letter with the reason. A run without {@code generate} has no
 * max-over-generations: no priority (nothing to weigh the humans against), nothing written.
 */
public final class AnnotationRequests {

    /** The state store: model|document id → {@link AnnotationCandidateRecord}. */
    public static final String STORE = "annotation-candidates";

    static final String REJECTED_BY = "aggregator (reading distributions)";

    /** The serdes this sub-topology needs, from the topology's own (registry settings included). */
    public record SubSerdes(Map<String, Object> avroConfig, Serde<AnnotationCandidateRecord> candidate,
                            Serde<AnnotationRequest> request, Serde<DeadLetter> deadLetter) {
    }

    private AnnotationRequests() {
    }

    /** Adds {@code distributions} → {@value #STORE} → {@code annotation-requests} (and rejects to dead letters). */
    public static void addTo(StreamsBuilder builder, SubSerdes serdes, Conventions conventions, Settings settings) {
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
                serdes.candidate()));
        Map<String, KStream<String, Object>> out = builder.stream(Topics.DISTRIBUTIONS,
                        Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("read-distributions-to-annotate"))
                .process(() -> new Prioritizer(serdes.avroConfig(), conventions, settings),
                        Named.as("prioritize-annotations"), STORE)
                .split(Named.as("annotation-"))
                .branch((key, value) -> value instanceof AnnotationRequest, Branched.as("requests"))
                .defaultBranch(Branched.as("rejected"));
        out.get("annotation-requests")
                .mapValues(value -> (AnnotationRequest) value)
                .to(Topics.ANNOTATION_REQUESTS, Produced.with(Serdes.String(), serdes.request()));
        out.get("annotation-rejected")
                .mapValues(value -> (DeadLetter) value)
                .to(Topics.DEAD_LETTERS, Produced.with(Serdes.String(), serdes.deadLetter()));
    }

    /** One distribution in: its candidate kept, its flip priority out (an AnnotationRequest or a DeadLetter). */
    private static final class Prioritizer implements Processor<String, byte[], String, Object> {

        private final Map<String, Object> avroConfig;
        private final Conventions conventions;
        private final Settings settings;
        private FailSafeAvroDeserializer<DocumentDistribution> avro;
        private KeyValueStore<String, AnnotationCandidateRecord> candidates;
        private ProcessorContext<String, Object> context;

        Prioritizer(Map<String, Object> avroConfig, Conventions conventions, Settings settings) {
            this.avroConfig = avroConfig;
            this.conventions = conventions;
            this.settings = settings;
        }

        @Override
        public void init(ProcessorContext<String, Object> context) {
            this.context = context;
            avro = new FailSafeAvroDeserializer<>(DocumentDistribution.class);
            avro.configure(avroConfig, false);
            candidates = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, byte[]> record) {
            Decoded<DocumentDistribution> decoded = avro.deserialize(Topics.DISTRIBUTIONS, record.value());
            if (decoded instanceof Decoded.Undecodable<DocumentDistribution> bad) {
                reject(record, bad.type(), bad.reason());
                return;
            }
            DocumentDistribution d = ((Decoded.Ok<DocumentDistribution>) decoded).value();
            AnnotationCandidateRecord candidate;
            Suggestion flip;
            try {
                candidate = Priorities.candidate(d);
                if (candidate == null) {
                    return;
                }
                flip = Priorities.suggestion(candidate, Strategy.FLIP, settings, conventions);
            } catch (IllegalArgumentException e) {
                reject(record, "invalid", e.getMessage());
                return;
            }
            String key = Priorities.key(d.getModel(), d.getDocumentId());
            candidates.put(key, candidate);
            context.forward(record.withKey(key).withValue(Priorities.request(flip, candidate)));
        }

        private void reject(Record<String, byte[]> record, String type, String reason) {
            RecordMetadata where = context.recordMetadata().orElseThrow();
            byte[] key = record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8);
            context.forward(record.withValue((Object) DeadLetters.of(where.topic(), where.partition(),
                    where.offset(), key, record.value(), type, reason, REJECTED_BY)));
        }

        @Override
        public void close() {
            if (avro != null) {
                avro.close();
            }
        }
    }
}
