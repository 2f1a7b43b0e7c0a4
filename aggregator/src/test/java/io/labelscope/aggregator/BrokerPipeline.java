package io.labelscope.aggregator;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.SpikinessMetric;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The running service on the real broker and registry: records produced with the Confluent-format Avro
 * serializer, outputs read by a {@code read_committed} consumer (only what the exactly-once transactions
 * committed), so the tests see what a user's consumer sees.
 */
final class BrokerPipeline implements Pipeline, AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(60);
    /** After the expected output arrived, how long to keep listening for outputs that must not come. */
    static final Duration SETTLE = Duration.ofMillis(1500);

    private final KafkaProducer<String, Object> producer;
    private final KafkaProducer<String, byte[]> rawProducer;
    private final Thread reader;
    private volatile boolean running = true;
    private final AtomicReference<Exception> sendFailure = new AtomicReference<>();
    private final List<DocumentDistribution> distributions = new CopyOnWriteArrayList<>();
    private final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
    private final List<AlignmentMetric> alignment = new CopyOnWriteArrayList<>();
    private final List<SpikinessMetric> spikiness = new CopyOnWriteArrayList<>();

    /** The service's application id, when {@link #send} is to wait until it has taken in each annotation. */
    private final String applicationId;
    private final Admin admin;

    /** @param bootstrapServers and registryUrl: the ones the service under test was given */
    BrokerPipeline(String bootstrapServers, String registryUrl) {
        this(bootstrapServers, registryUrl, null);
    }

    /**
     * @param applicationId the Kafka Streams application id of the service under test: {@link #send} to
     *                      {@code annotations} then returns only once the service's document assembler has taken
     *                      the annotation in (see {@link #awaitAnnotationTakenIn}), as the TopologyTestDriver does
     *                      before its {@code send} returns; null: no such wait
     */
    BrokerPipeline(String bootstrapServers, String registryUrl, String applicationId) {
        this.applicationId = applicationId;
        this.admin = applicationId == null ? null
                : Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
        Map<String, Object> p = new HashMap<>(AvroSerdeConfig.producer(registryUrl));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(p);
        rawProducer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
                new StringSerializer(), new ByteArraySerializer());

        Map<String, Object> c = new HashMap<>(AvroSerdeConfig.registry(registryUrl));
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "scenario-reader-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        AvroKafkaDeserializer<Object> values = new AvroKafkaDeserializer<>();
        values.configure(c, false);
        KafkaConsumer<String, Object> consumer = new KafkaConsumer<>(c, new StringDeserializer(), values);
        consumer.subscribe(List.of(Topics.DISTRIBUTIONS, Topics.DEAD_LETTERS, Topics.ALIGNMENT_METRICS,
                Topics.SPIKINESS_METRICS));
        reader = new Thread(() -> {
            try (consumer) {
                while (running) {
                    org.apache.kafka.clients.consumer.ConsumerRecords<String, Object> batch;
                    try {
                        batch = consumer.poll(Duration.ofMillis(100));
                    } catch (org.apache.kafka.common.errors.RecordDeserializationException e) {
                        System.err.println("scenario reader: skipping undecodable output " + e.topicPartition()
                                + "@" + e.offset() + ": " + e.getCause());
                        consumer.seek(e.topicPartition(), e.offset() + 1);
                        continue;
                    }
                    for (ConsumerRecord<String, Object> r : batch) {
                        Object v = r.value();
                        if (v instanceof DocumentDistribution d) {
                            distributions.add(d);
                        } else if (v instanceof DeadLetter d) {
                            deadLetters.add(d);
                        } else if (v instanceof AlignmentMetric a) {
                            alignment.add(a);
                        } else if (v instanceof SpikinessMetric s) {
                            spikiness.add(s);
                        }
                    }
                }
            }
        }, "scenario-reader");
        reader.setDaemon(true);
        reader.start();
    }

    @Override
    public void send(String topic, String key, SpecificRecord value, Instant timestamp) {
        RecordMetadata sent;
        try {
            sent = producer.send(new ProducerRecord<>(topic, null, timestamp.toEpochMilli(), key, value)).get();
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException("could not produce to " + topic, e);
        }
        if (applicationId != null && topic.equals(Topics.ANNOTATIONS)) {
            awaitAnnotationTakenIn(sent);
        }
    }

    /**
     * Waits until the service has taken in an annotation: annotations reach the document assembler through a
     * repartition topic (one hop more than the worker's records), so a scenario's "annotation before the steps"
     * holds on the broker only if the next record is sent after the annotation crossed. First the service
     * commits its read of the annotation (in the same transaction as the write to the repartition topic), then
     * it commits having read every committed record of the repartition topic: its committed offset on each
     * partition reaches the last stable offset, less the transaction marker that follows the last record.
     */
    private void awaitAnnotationTakenIn(RecordMetadata sent) {
        String repartition = applicationId + "-" + TopologyProducer.ANNOTATIONS_BY_DOCUMENT + "-repartition";
        TopicPartition input = new TopicPartition(sent.topic(), sent.partition());
        long deadline = System.nanoTime() + WAIT.toNanos();
        try {
            while (true) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(applicationId)
                        .partitionsToOffsetAndMetadata().get();
                OffsetAndMetadata read = committed.get(input);
                if (read != null && read.offset() > sent.offset()) {
                    Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
                    admin.describeTopics(List.of(repartition)).allTopicNames().get().get(repartition).partitions()
                            .forEach(p -> ends.put(new TopicPartition(repartition, p.partition()),
                                    OffsetSpec.latest()));
                    var stable = admin.listOffsets(ends, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                            .all().get();
                    if (stable.entrySet().stream().allMatch(e -> e.getValue().offset() == 0
                            || (committed.get(e.getKey()) != null
                            && committed.get(e.getKey()).offset() >= e.getValue().offset() - 1))) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the aggregator did not take in the annotation " + input + "@"
                            + sent.offset() + " within " + WAIT.toSeconds() + " s");
                }
                sleep(20);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not read the aggregator's offsets", e);
        }
    }

    /** {@link #send} without waiting for the broker, for a backlog; {@link #flush} waits for all of them. */
    void sendLater(String topic, String key, SpecificRecord value, Instant timestamp) {
        producer.send(new ProducerRecord<>(topic, null, timestamp.toEpochMilli(), key, value), (meta, e) -> {
            if (e != null) {
                sendFailure.compareAndSet(null, e);
            }
        });
    }

    /** Waits until every record sent so far is written; fails if any of them could not be. */
    void flush() {
        producer.flush();
        if (sendFailure.get() != null) {
            throw new IllegalStateException("could not produce", sendFailure.get());
        }
    }

    @Override
    public void sendRaw(String topic, String key, byte[] value) {
        try {
            rawProducer.send(new ProducerRecord<>(topic, key, value)).get();
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException("could not produce to " + topic, e);
        }
    }

    @Override
    public List<DocumentDistribution> distributions(String documentId, int atLeast) {
        return awaitCount(() -> distributions.stream().filter(d -> d.getDocumentId().equals(documentId)).toList(),
                atLeast);
    }

    /** Every distribution read so far of the documents whose id starts with {@code prefix}, oldest first; no wait. */
    List<DocumentDistribution> distributionsWithPrefix(String prefix) {
        return distributions.stream().filter(d -> d.getDocumentId().startsWith(prefix)).toList();
    }

    /** Every dead letter read so far whose key starts with {@code prefix} (other tests share the broker); no wait. */
    List<DeadLetter> deadLettersWithKeyPrefix(String prefix) {
        return deadLetters.stream().filter(d -> keyOf(d).startsWith(prefix)).toList();
    }

    /** The rejected record's key as text ("" when it had none). */
    private static String keyOf(DeadLetter d) {
        return d.getKey() == null ? "" : new String(DriverPipeline.bytes(d.getKey()), StandardCharsets.UTF_8);
    }

    @Override
    public List<DeadLetter> deadLetters(String key, int atLeast) {
        return awaitCount(() -> deadLetters.stream().filter(d -> key.equals(keyOf(d))).toList(), atLeast);
    }

    @Override
    public AlignmentMetric alignment(String model, String taskVersion, String method,
                                     Predicate<AlignmentMetric> until) {
        Supplier<AlignmentMetric> latest = () -> alignment.stream().filter(m -> m.getModel().equals(model)
                && java.util.Objects.equals(m.getTaskVersion(), taskVersion) && m.getMethod().equals(method)
                && m.getWindowStart() == null).reduce((a, b) -> b).orElse(null);
        return await(latest, until, "all-time alignment of " + model + "@" + taskVersion + "/" + method);
    }

    @Override
    public SpikinessMetric spikiness(String model, String taskVersion, String position, int stepIndex,
                                     Predicate<SpikinessMetric> until) {
        Supplier<SpikinessMetric> latest = () -> spikiness.stream().filter(m -> m.getModel().equals(model)
                && java.util.Objects.equals(m.getTaskVersion(), taskVersion) && m.getPosition().equals(position)
                && m.getStepIndex() == stepIndex && m.getWindowStart() == null).reduce((a, b) -> b).orElse(null);
        return await(latest, until, "all-time spikiness of " + model + "@" + taskVersion + " " + position + "/"
                + stepIndex);
    }

    private static <T> List<T> awaitCount(Supplier<List<T>> read, int atLeast) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (read.get().size() < atLeast && System.nanoTime() < deadline) {
            sleep(50);
        }
        sleep(SETTLE.toMillis()); // anything that must not come would have come by now
        return new ArrayList<>(read.get());
    }

    private static <T> T await(Supplier<T> latest, Predicate<T> until, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            T value = latest.get();
            if (value != null && until.test(value)) {
                return value;
            }
            sleep(50);
        }
        T value = latest.get();
        if (value == null) {
            throw new AssertionError("no " + what + " within " + WAIT.toSeconds() + " s");
        }
        return value;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        running = false;
        producer.close();
        rawProducer.close();
        if (admin != null) {
            admin.close();
        }
    }
}
