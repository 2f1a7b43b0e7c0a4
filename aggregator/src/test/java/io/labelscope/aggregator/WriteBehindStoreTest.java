package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.IntegerDeserializer;
import org.apache.kafka.common.serialization.IntegerSerializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

/**
 * {@link WriteBehindStore}: values kept as objects between commits, written to the store below once per commit,
 * and (the contract with Kafka Streams it relies on) in the changelog when Kafka Streams commits.
 */
class WriteBehindStoreTest {

    /** Counts encodings and decodings of the values, as the documents' Avro serde would do them. */
    private final AtomicInteger encoded = new AtomicInteger();
    private final AtomicInteger decoded = new AtomicInteger();
    private final Serde<Integer> counting = Serdes.serdeFrom(
            (topic, v) -> {
                encoded.incrementAndGet();
                return new IntegerSerializer().serialize(topic, v);
            },
            (topic, bytes) -> {
                decoded.incrementAndGet();
                return new IntegerDeserializer().deserialize(topic, bytes);
            });

    private WriteBehindStore<String, Integer> store(int maxValues) {
        KeyValueStore<String, Integer> store = WriteBehindStore.inFrontOf(Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore("docs"), Serdes.String(), counting).withLoggingDisabled(), maxValues)
                .build();
        store.init(new MockProcessorContext<>().getStateStoreContext(), store);
        return (WriteBehindStore<String, Integer>) store;
    }

    /** Five records of one document between two commits: read and written as they are, encoded once. */
    @Test
    void aValueChangedManyTimesBetweenCommitsIsEncodedOnceAndNeverDecoded() {
        WriteBehindStore<String, Integer> store = store(100);
        for (int i = 0; i < 5; i++) {
            Integer now = store.get("doc");
            store.put("doc", now == null ? 1 : now + 1);
        }
        assertThat(store.get("doc")).isEqualTo(5);
        assertThat(encoded).hasValue(0);

        store.flushCache();
        assertThat(encoded).hasValue(1);
        assertThat(store.get("doc")).isEqualTo(5);
        assertThat(decoded).as("the stream thread reads the object it wrote").hasValue(0);
    }

    @Test
    void otherThreadsReadTheStoreBelowThatIsTheLastCommit() throws Exception {
        WriteBehindStore<String, Integer> store = store(100);
        store.put("doc", 1);
        store.flushCache();
        store.put("doc", 2);
        assertThat(CompletableFuture.supplyAsync(() -> store.get("doc")).get()).isEqualTo(1);
        store.flushCache();
        assertThat(CompletableFuture.supplyAsync(() -> store.get("doc")).get()).isEqualTo(2);
    }

    @Test
    void anUncleanCloseDropsWhatWasNotCommitted() {
        WriteBehindStore<String, Integer> store = store(100);
        store.put("doc", 1);
        store.flushCache();
        store.put("doc", 2);
        store.put("other", 7);
        store.clearCache();
        assertThat(store.get("doc")).isEqualTo(1);
        assertThat(store.get("other")).isNull();
    }

    @Test
    void keepsAtMostMaxValuesAndReadsDroppedOnesFromBelow() {
        WriteBehindStore<String, Integer> store = store(2);
        store.put("a", 1);
        store.put("b", 2);
        store.put("c", 3); // three changed: more than kept, so written at once
        assertThat(encoded).hasValue(3);
        store.put("d", 4);
        store.flushCache();
        assertThat(store.get("a")).isEqualTo(1);
        assertThat(decoded).as("'a' was dropped from the objects").hasValue(1);
        assertThat(store.get("d")).isEqualTo(4);
        assertThat(store.get("missing")).isNull();
        store.delete("d");
        assertThat(store.get("d")).isNull();
        try (var all = store.all()) {
            assertThat(all.hasNext()).isTrue();
        }
    }

    /**
     * The contract with Kafka Streams: the values a processor put are in the store's changelog once the task
     * commits (Kafka Streams calls flushCache before it sends the offsets), in the real task and commit code of
     * the test driver. Fails if a Kafka Streams version stops calling it there.
     */
    @Test
    void whatAProcessorPutIsInTheChangelogAfterKafkaStreamsCommits() {
        StreamsBuilder builder = new StreamsBuilder();
        builder.addStateStore(WriteBehindStore.inFrontOf(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore("docs"), Serdes.String(), counting).withCachingEnabled()));
        builder.stream("in", Consumed.with(Serdes.String(), Serdes.Integer()))
                .process(() -> new Processor<String, Integer, Void, Void>() {
                    private KeyValueStore<String, Integer> docs;

                    @Override
                    public void init(ProcessorContext<Void, Void> context) {
                        docs = context.getStateStore("docs");
                    }

                    @Override
                    public void process(Record<String, Integer> record) {
                        Integer sum = docs.get(record.key());
                        docs.put(record.key(), (sum == null ? 0 : sum) + record.value());
                    }
                }, "docs");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "write-behind");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
            TestInputTopic<String, Integer> in = driver.createInputTopic("in", new StringSerializer(),
                    new IntegerSerializer());
            TestOutputTopic<String, Integer> changelog = driver.createOutputTopic("write-behind-docs-changelog",
                    new StringDeserializer(), (Deserializer<Integer>) new IntegerDeserializer());
            in.pipeInput("doc", 2);
            in.pipeInput("doc", 3);
            in.pipeInput("other", 1);
            assertThat(changelog.readKeyValuesToList()).extracting(kv -> kv.key + "=" + kv.value)
                    .isEqualTo(List.of("doc=2", "doc=5", "other=1"));
            KeyValueStore<String, Integer> docs = driver.getKeyValueStore("docs");
            assertThat(docs.get("doc")).isEqualTo(5);
        }
    }
}
