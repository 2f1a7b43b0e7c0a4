package io.labelscope.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local platform under the faults an operator meets: kill -9 of the registry and of the broker. Both come back
 * by themselves (their restart loops), the registry with every schema id meaning the same schema text as before and
 * its BACKWARD setting, the broker with its topics and records. Recovery times (kill to answering) are printed for
 * docs/reliability.md.
 */
class PlatformFaultsIT {

    private static final String EXTRA_SCHEMA = "{\"type\": \"record\", \"name\": \"Extra\", \"namespace\": \"test\","
            + " \"fields\": [{\"name\": \"x\", \"type\": \"long\"}]}";
    private static final String LATER_SCHEMA = "{\"type\": \"record\", \"name\": \"Later\", \"namespace\": \"test\","
            + " \"fields\": [{\"name\": \"y\", \"type\": \"string\"}]}";

    /** Longest a restart may take on a loaded 2-core machine before the test calls it "not brought back". */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(120);

    @TempDir
    Path home;

    private LocalPlatform platform;

    @AfterEach
    void stopWhateverIsLeft() throws Exception {
        if (platform != null) {
            platform.down();
        }
    }

    @Test
    void registryAndBrokerKilledWithSignal9ComeBackWithTheirSchemasTopicsAndRecords() throws Exception {
        PlatformSettings settings = new PlatformSettings(home, "127.0.0.1", freePort(), freePort(), freePort(), 2);
        platform = new LocalPlatform(settings);
        List<TopicDefinition> topics = List.of(
                new TopicDefinition("probe-input", false, "probe-input-value", LocalPlatformTest.SCHEMA));
        platform.up(topics, line -> { });

        // A schema only a user registered: `up` does not register it again, so only durable storage keeps its id.
        RegistryClient registry = new RegistryClient(settings.registryUrl());
        int extraId = registry.register("probe-extra-value", EXTRA_SCHEMA);
        Map<Integer, String> before = everySchema(registry);
        assertThat(before).containsKey(extraId).hasSizeGreaterThanOrEqualTo(2);

        // Restarted through the platform code as an operator would (its loop has usually restarted it already;
        // then `up` only waits for it).
        long registryRecovery = kill(LocalPlatform.REGISTRY);
        platform.up(topics, line -> { });
        registryRecovery = System.currentTimeMillis() - registryRecovery;
        assertThat(everySchema(registry)).isEqualTo(before);
        assertThat(registry.globalCompatibility()).isEqualTo("BACKWARD");
        // A new schema gets a new id, never one that records already carry.
        assertThat(before).doesNotContainKey(registry.register("probe-later-value", LATER_SCHEMA));

        produce(settings, "before-the-kill");
        long brokerRecovery = killAndAwait(LocalPlatform.KAFKA,
                () -> LocalPlatform.portAnswers(settings.host(), settings.kafkaPort()));
        produce(settings, "after-the-kill");
        assertThat(consumeAll(settings)).containsExactly("before-the-kill", "after-the-kill");

        System.out.printf("recovery after kill -9: registry %.1f s, broker %.1f s (uptime: %s)%n",
                registryRecovery / 1000.0, brokerRecovery / 1000.0, uptime());
    }

    /** kill -9 of the service's JVM; returns when it was killed (epoch ms). */
    private long kill(String name) throws Exception {
        LocalPlatform.ServiceStatus status = platform.status().stream().filter(s -> s.name().equals(name))
                .findFirst().orElseThrow();
        ProcessHandle service = ProcessHandle.of(status.pid().orElseThrow()).orElseThrow();
        long killed = System.currentTimeMillis();
        service.destroyForcibly();
        service.onExit().get(30, TimeUnit.SECONDS);
        return killed;
    }

    /**
     * kill -9 of the service's JVM, then the milliseconds until {@code answers} holds again, with nobody running
     * {@code up}: the service must be brought back by itself.
     */
    private long killAndAwait(String name, BooleanSupplier answers) throws Exception {
        long killed = kill(name);
        long deadline = killed + RECOVERY_BOUND.toMillis();
        while (!answers.getAsBoolean()) {
            assertThat(System.currentTimeMillis()).as(name + " was not brought back within " + RECOVERY_BOUND
                    + "; log " + platform.log(name)).isLessThan(deadline);
            Thread.sleep(200);
        }
        return System.currentTimeMillis() - killed;
    }

    /** Every id the registry knows, with its schema text: ids are dense from 1 in Apicurio. */
    private static Map<Integer, String> everySchema(RegistryClient registry) throws Exception {
        Map<Integer, String> schemas = new LinkedHashMap<>();
        for (int id = 1; ; id++) {
            try {
                schemas.put(id, registry.schemaById(id));
            } catch (java.io.IOException e) {
                return schemas;
            }
        }
    }

    private static void produce(PlatformSettings settings, String value) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", settings.bootstrapServers());
        props.put("acks", "all");
        props.put("delivery.timeout.ms", 120_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            producer.send(new ProducerRecord<>("probe-input", 0, "k", value)).get(120, TimeUnit.SECONDS);
        }
    }

    private static List<String> consumeAll(PlatformSettings settings) {
        Properties props = new Properties();
        props.put("bootstrap.servers", settings.bootstrapServers());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            TopicPartition partition = new TopicPartition("probe-input", 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<String> values = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (values.size() < 2 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    values.add(r.value());
                }
            }
            return values;
        }
    }

    static String uptime() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
