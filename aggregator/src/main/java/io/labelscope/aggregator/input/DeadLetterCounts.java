package io.labelscope.aggregator.input;

import io.labelscope.aggregator.serde.AggregatorSerdes;
import io.labelscope.aggregator.serde.InternalAvroSerde;

import io.labelscope.aggregator.avro.DeadLetterTallyRecord;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.Decoded;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

import java.time.Instant;

/**
 * Counts the {@code dead-letters} topic by error type, whoever wrote them (the worker, this service, any other
 * producer), for the dashboard and {@code GET /api/overview}.
 *
 * <p>Why a Kafka Streams sub-topology and not a count of what this service writes itself or a plain consumer: the
 * counts live in a state store with a changelog, updated under {@code exactly_once_v2} in the same transaction as
 * the read offsets of {@code dead-letters}, so each dead letter is counted exactly once across restarts, crashes
 * and rebalances; and each partition of {@code dead-letters} is counted by the one instance it is assigned to, so
 * the instances' parts of the overview add up to the topic's total.
 *
 * <p>The store {@value #STORE} is keyed by error type; every stream task (one per partition of
 * {@code dead-letters}) has its own, so an instance that hosts several tasks sees the same error type once per
 * task: a reader sums them. A dead letter that cannot itself be read is counted under its decoding error
 * ({@code undecodable}, ...) with that reason, and rejected by {@value #REJECTED_BY}.
 *
 * <p>The counts start with the application id: they include every dead letter still on the topic when the
 * application id first ran (the stream starts at the earliest offset), and are not reduced when the topic's
 * retention deletes old dead letters.
 */
public final class DeadLetterCounts {

    /** The state store: error type → {@link DeadLetterTallyRecord}, one per stream task. */
    public static final String STORE = "dead-letter-counts";

    /** Who "rejected" a dead letter that cannot be read. */
    public static final String REJECTED_BY = "aggregator (reading dead-letters)";

    private DeadLetterCounts() {
    }

    /** Adds the counting sub-topology: {@code dead-letters} → {@value #STORE}. */
    public static void addTo(StreamsBuilder builder, AggregatorSerdes serdes) {
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), serdes.key,
                new InternalAvroSerde<>(DeadLetterTallyRecord.getClassSchema())));
        // Keys are read as bytes: a dead letter keeps its original key, which need not be text.
        builder.stream(Topics.DEAD_LETTERS, Consumed.with(Serdes.ByteArray(), serdes.rawValue)
                        .withName("read-" + Topics.DEAD_LETTERS))
                .process(() -> new Counter(serdes), Named.as("count-dead-letters"), STORE);
    }

    /** The result of reading one dead letter: the fields that are counted. */
    public record Counted(String errorType, String reason, String sourceTopic, String rejectedBy, Instant failedAt) {

        /** A dead letter's own fields, or, when its bytes cannot be read, the decoding error. */
        static Counted of(Decoded<DeadLetter> decoded, Instant recordTime) {
            if (decoded instanceof Decoded.Ok<DeadLetter> ok) {
                DeadLetter d = ok.value();
                return new Counted(d.getErrorType(), d.getReason(), d.getSourceTopic(), d.getRejectedBy(),
                        d.getFailedAt());
            }
            Decoded.Undecodable<DeadLetter> bad = (Decoded.Undecodable<DeadLetter>) decoded;
            return new Counted(bad.type(), "a record on " + Topics.DEAD_LETTERS + " that is not a dead letter: "
                    + bad.reason(), Topics.DEAD_LETTERS, REJECTED_BY, recordTime);
        }

        /** The tally after this dead letter: one more, and its reason if it is the newest (ties: the later one). */
        DeadLetterTallyRecord addTo(DeadLetterTallyRecord before) {
            if (before != null && before.getLatestFailedAt().isAfter(failedAt)) {
                before.setCount(before.getCount() + 1);
                return before;
            }
            return DeadLetterTallyRecord.newBuilder()
                    .setCount(before == null ? 1 : before.getCount() + 1)
                    .setLatestReason(reason).setLatestSourceTopic(sourceTopic).setLatestRejectedBy(rejectedBy)
                    .setLatestFailedAt(failedAt).build();
        }
    }

    private static final class Counter implements Processor<byte[], byte[], Void, Void> {

        private final AggregatorSerdes serdes;
        private FailSafeAvroDeserializer<DeadLetter> avro;
        private KeyValueStore<String, DeadLetterTallyRecord> tallies;

        Counter(AggregatorSerdes serdes) {
            this.serdes = serdes;
        }

        @Override
        public void init(ProcessorContext<Void, Void> context) {
            avro = new FailSafeAvroDeserializer<>(DeadLetter.class);
            avro.configure(serdes.avroConfig, false);
            tallies = context.getStateStore(STORE);
        }

        @Override
        public void process(Record<byte[], byte[]> record) {
            Counted c = Counted.of(avro.deserialize(Topics.DEAD_LETTERS, record.value()),
                    Instant.ofEpochMilli(record.timestamp()));
            tallies.put(c.errorType(), c.addTo(tallies.get(c.errorType())));
        }

        @Override
        public void close() {
            if (avro != null) {
                avro.close();
            }
        }
    }
}
