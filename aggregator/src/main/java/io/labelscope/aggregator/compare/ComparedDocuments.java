package io.labelscope.aggregator.compare;

import io.labelscope.aggregator.InternalAvroSerde;
import io.labelscope.aggregator.Keys;
import io.labelscope.aggregator.avro.ComparedDocumentRecord;
import io.labelscope.aggregator.avro.ConfigurationScoresRecord;
import io.labelscope.aggregator.avro.MethodScoresRecord;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.MethodResult;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.DeadLetters;
import io.labelscope.schemas.serde.Decoded;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The documents a paired comparison reads: per annotated document, the latest NLL, L1 and example-F1 of every
 * configuration (model, or model@version) and method, kept from {@code distributions} in the state store
 * {@value #STORE} (RocksDB + changelog, key {@code task|document_id}, so that one task's documents are one prefix
 * scan). {@code GET /api/compare} sums the differences of two configurations over it ({@link ComparisonSums}).
 *
 * <p>Why read {@code distributions} and not the assembler's output inside the topology: the comparison then
 * scores exactly what users see on the topic, every method on it included (a method added later needs nothing
 * here), and it depends on nothing of the assembler's state. {@code distributions} is keyed by document id, so a
 * document's re-emissions (a new annotation, a changed vote) arrive in order on one partition and the latest one
 * replaces the earlier: the comparison follows annotation changes exactly. A distribution without annotators
 * (null scores) removes its configuration from the document: only annotated documents are compared.
 *
 * <p>A record on {@code distributions} that is not a distribution is dead-lettered, not fatal.
 */
public final class ComparedDocuments {

    /** The state store: {@code task|document_id} → {@link ComparedDocumentRecord}. */
    public static final String STORE = "compared-documents";

    static final String REJECTED_BY = "aggregator (reading distributions)";

    private ComparedDocuments() {
    }

    /** Adds the sub-topology {@code distributions} → {@value #STORE} (its rejects → {@code dead-letters}). */
    public static void addTo(StreamsBuilder builder, Map<String, Object> avroConfig, Serde<DeadLetter> deadLetters) {
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
                new InternalAvroSerde<>(ComparedDocumentRecord.getClassSchema())));
        builder.stream(Topics.DISTRIBUTIONS, Consumed.with(Serdes.String(), Serdes.ByteArray())
                        .withName("read-" + Topics.DISTRIBUTIONS))
                .process(() -> new Keeper(avroConfig), Named.as("keep-compared-documents"), STORE)
                .to(Topics.DEAD_LETTERS, Produced.with(Serdes.String(), deadLetters));
    }

    /** The store key of a document: its task first, so a task's documents are one prefix. */
    static String key(String task, String documentId) {
        return task + Keys.SEPARATOR + documentId;
    }

    /** The configuration's scores of an annotated distribution; null when it has no annotators. */
    static ConfigurationScoresRecord scores(DocumentDistribution d, Configuration configuration) {
        if (d.getAnnotators() == 0) {
            return null;
        }
        Map<String, MethodScoresRecord> methods = new HashMap<>();
        for (Map.Entry<String, MethodResult> m : d.getMethods().entrySet()) {
            MethodResult r = m.getValue();
            if (r.getNll() != null && r.getL1() != null && r.getExampleF1() != null) {
                methods.put(m.getKey(), new MethodScoresRecord(r.getNll(), r.getL1(), r.getExampleF1()));
            }
        }
        return methods.isEmpty() ? null
                : new ConfigurationScoresRecord(configuration.model(), configuration.version(), methods);
    }

    /** The document's entry after a distribution: its configuration's scores replaced (or removed). */
    static ComparedDocumentRecord after(ComparedDocumentRecord before, DocumentDistribution d) {
        Configuration configuration = Configuration.of(d);
        ConfigurationScoresRecord scores = scores(d, configuration);
        Map<String, ConfigurationScoresRecord> configurations =
                before == null ? new HashMap<>() : new HashMap<>(before.getConfigurations());
        if (scores == null) {
            configurations.remove(configuration.toString());
        } else {
            configurations.put(configuration.toString(), scores);
        }
        return configurations.isEmpty() ? null
                : new ComparedDocumentRecord(d.getTask(), d.getDocumentId(), configurations);
    }

    private static final class Keeper implements Processor<String, byte[], String, DeadLetter> {

        private final Map<String, Object> avroConfig;
        private FailSafeAvroDeserializer<DocumentDistribution> avro;
        private ProcessorContext<String, DeadLetter> context;
        private KeyValueStore<String, ComparedDocumentRecord> documents;

        Keeper(Map<String, Object> avroConfig) {
            this.avroConfig = avroConfig;
        }

        @Override
        public void init(ProcessorContext<String, DeadLetter> context) {
            this.context = context;
            avro = new FailSafeAvroDeserializer<>(DocumentDistribution.class);
            avro.configure(avroConfig, false);
            documents = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<String, byte[]> record) {
            if (record.value() == null) {
                return; // a tombstone names no task or model: nothing to replace
            }
            Decoded<DocumentDistribution> decoded = avro.deserialize(Topics.DISTRIBUTIONS, record.value());
            if (decoded instanceof Decoded.Undecodable<DocumentDistribution> bad) {
                RecordMetadata meta = context.recordMetadata().orElse(null);
                context.forward(record.withValue(DeadLetters.of(Topics.DISTRIBUTIONS,
                        meta == null ? -1 : meta.partition(), meta == null ? -1 : meta.offset(),
                        record.key() == null ? null : record.key().getBytes(StandardCharsets.UTF_8), record.value(),
                        bad.type(), "a record on " + Topics.DISTRIBUTIONS + " that is not a distribution: "
                                + bad.reason(), REJECTED_BY)));
                return;
            }
            DocumentDistribution d = ((Decoded.Ok<DocumentDistribution>) decoded).value();
            String key = key(d.getTask(), d.getDocumentId());
            ComparedDocumentRecord after = after(documents.get(key), d);
            if (after == null) {
                documents.delete(key);
            } else {
                documents.put(key, after);
            }
        }

        @Override
        public void close() {
            if (avro != null) {
                avro.close();
            }
        }
    }
}
