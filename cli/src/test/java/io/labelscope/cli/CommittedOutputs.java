package io.labelscope.cli;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.Decoded;

/**
 * What a user's consumer sees of the output topics: {@code distributions}, {@code dead-letters} and
 * {@code alignment-metrics} read from the beginning with {@code read_committed} (only what the services'
 * exactly-once transactions committed; an aborted write of a killed service never shows), through the schemas
 * module's fail-safe deserializer. A background thread keeps reading across broker restarts (the client
 * reconnects by itself); the lists only grow, in each partition's order, each record once.
 */
final class CommittedOutputs implements AutoCloseable {

    final List<DocumentDistribution> distributions = new CopyOnWriteArrayList<>();
    final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
    final List<AlignmentMetric> alignment = new CopyOnWriteArrayList<>();
    /** Output records the reader could not decode: none may exist, the services write only their own schemas. */
    final List<String> undecodable = new CopyOnWriteArrayList<>();

    private final Set<String> seen = new HashSet<>();
    private volatile boolean running = true;
    private final Thread reader;

    CommittedOutputs(String bootstrapServers, String registryUrl) {
        Map<String, Object> config = AvroSerdeConfig.consumer(registryUrl);
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "faults-reader-" + UUID.randomUUID());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, Decoded<Object>> consumer = new KafkaConsumer<>(config);
        // Assigned, not subscribed: a consumer group would, after the broker's restart, rejoin and go back to its
        // last auto-committed offset, reading records a second time that the services wrote once. Without a
        // group the position lives in this client only and survives the broker's restart.
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : List.of(Topics.DISTRIBUTIONS, Topics.DEAD_LETTERS, Topics.ALIGNMENT_METRICS)) {
            consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        reader = new Thread(() -> {
            try (consumer) {
                while (running) {
                    for (ConsumerRecord<String, Decoded<Object>> record : consumer.poll(Duration.ofMillis(200))) {
                        // Belt and braces: a record at coordinates already read is this reader's repeat, never
                        // the services' (theirs has offsets of its own), so it must not count as a doubling.
                        if (!seen.add(record.topic() + "-" + record.partition() + "@" + record.offset())) {
                            continue;
                        }
                        if (!(record.value() instanceof Decoded.Ok<Object> ok)) {
                            undecodable.add(record.topic() + "-" + record.partition() + "@" + record.offset());
                        } else if (ok.value() instanceof DocumentDistribution d) {
                            distributions.add(d);
                        } else if (ok.value() instanceof DeadLetter d) {
                            deadLetters.add(d);
                        } else if (ok.value() instanceof AlignmentMetric a) {
                            alignment.add(a);
                        }
                    }
                }
            }
        }, "faults-committed-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** The dead letters of type {@code errorType} of records whose key was {@code key}. */
    List<DeadLetter> deadLettersOf(String errorType, String key) {
        return deadLetters.stream().filter(d -> d.getErrorType().equals(errorType) && d.getKey() != null
                && StandardCharsets.UTF_8.decode(d.getKey().duplicate()).toString().equals(key)).toList();
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        reader.join(5000);
    }
}
