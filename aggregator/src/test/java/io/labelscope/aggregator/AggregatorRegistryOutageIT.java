package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.platform.ApicurioRegistry;
import io.labelscope.platform.RegistryClient;
import io.labelscope.platform.testing.ChildProcesses;
import io.labelscope.platform.testing.ServiceProcess;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A schema registry outage does not stop the aggregator (issue #13). The packaged aggregator talks to a registry
 * of its own (the shared one stays up for the other tests), kept in an H2 file so that schema ids survive its
 * restart. The aggregator's output serializer asks the registry once per output topic; the first dead letter is
 * made while the registry is down (a value that is not Avro needs no registry to be rejected), so its
 * serialization fails. Before the fix the stream thread died with it and nothing more was processed; now the
 * serializer retries for a while, the thread is replaced and processes the record again (exactly-once: the
 * aborted attempts leave nothing visible), and once the registry is back the dead letter goes out once, and a
 * document written after the outage gets its distribution once.
 */
class AggregatorRegistryOutageIT {

    private static final Duration REGISTRY_START = Duration.ofSeconds(120);
    /** Long enough for several failed attempts (the serializer's retry budget is 3 s). */
    private static final Duration OUTAGE = Duration.ofSeconds(12);

    private Process registry;
    private ServiceProcess aggregator;

    @Test
    void aRegistryOutageAtOutputSerializationIsSurvived() throws Exception {
        Path jar = Path.of(System.getProperty("labelscope.aggregator.jar", "target/quarkus-app/quarkus-run.jar"));
        TestPlatform platform = TestPlatform.get();
        PlatformWithTopics.createPublicTopics(platform);
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String task = "outage-" + tag;
        String model = "m-outage-" + tag;
        String prefix = "outage-" + tag + "-";
        int port = ChildProcesses.freePort();
        String registryUrl = "http://127.0.0.1:" + port;
        Path storage = Files.createDirectories(Path.of("target", "it-registry-" + tag)).toAbsolutePath();
        startRegistry(port, storage);

        Map<String, String> config = new HashMap<>();
        config.put("quarkus.kafka-streams.bootstrap-servers", platform.bootstrapServers());
        config.put("labelscope.registry.url", registryUrl);
        config.put("quarkus.kafka-streams.application-id", "outage-aggregator-" + tag);
        config.put("kafka-streams.state.dir", Path.of("target", "it-aggregator-state-" + tag).toAbsolutePath()
                .toString());
        aggregator = ServiceProcess.start("aggregator-registry-outage", jar, config);

        try (BrokerPipeline pipeline = new BrokerPipeline(platform.bootstrapServers(), registryUrl)) {
            AggregatorCrashIT.produceBacklog(pipeline, task, model, "run-" + tag, prefix, 0, 1);
            awaitDistributions(pipeline, prefix, 1);

            registry.descendants().forEach(ProcessHandle::destroyForcibly);
            registry.destroyForcibly();
            registry.waitFor(30, TimeUnit.SECONDS);
            String garbage = prefix + "not-avro";
            pipeline.sendRaw(Topics.LABEL_STEPS, garbage, "not avro".getBytes(StandardCharsets.UTF_8));
            Thread.sleep(OUTAGE.toMillis());
            assertThat(aggregator.java()).as("the aggregator process during the outage\n" + aggregator.tail())
                    .isPresent();

            startRegistry(port, storage);
            List<DeadLetter> dead = pipeline.deadLetters(garbage, 1);
            assertThat(dead).as("the dead letter made during the outage, once\n" + aggregator.tail()).hasSize(1);
            assertThat(dead.get(0).getErrorType().toString()).isEqualTo("undecodable");

            AggregatorCrashIT.produceBacklog(pipeline, task, model, "run-" + tag, prefix, 1, 1);
            awaitDistributions(pipeline, prefix, 2);
            Thread.sleep(BrokerPipeline.SETTLE.toMillis());
            Map<String, List<DocumentDistribution>> byDocument = pipeline.distributionsWithPrefix(prefix).stream()
                    .collect(Collectors.groupingBy(d -> d.getDocumentId().toString()));
            assertThat(byDocument.keySet()).containsExactlyInAnyOrder(prefix + 0, prefix + 1);
            assertThat(byDocument.values()).as("each document exactly once\n" + aggregator.tail())
                    .allMatch(AggregatorCrashIT::versionsOfOneAnnotatedRun);
            assertThat(aggregator.get("/q/health/live")).as("Kafka Streams alive after the outage").startsWith("200");
        }
    }

    private void startRegistry(int port, Path storage) throws Exception {
        Path log = storage.resolve("registry-" + System.nanoTime() + ".log");
        ProcessBuilder pb = new ProcessBuilder(ChildProcesses.watchedByThisJvm(ApicurioRegistry.command("127.0.0.1",
                port))).redirectErrorStream(true).redirectOutput(log.toFile());
        // Apicurio 2.6 keeps its storage in H2; in a file it survives a kill, schema ids included.
        pb.environment().put("REGISTRY_DATASOURCE_URL", "jdbc:h2:file:" + storage.resolve("registry"));
        registry = pb.start();
        Process started = registry;
        ApicurioRegistry.awaitReady(new RegistryClient("http://127.0.0.1:" + port), started::isAlive, log,
                REGISTRY_START.toMillis());
    }

    private void awaitDistributions(BrokerPipeline pipeline, String prefix, int documents) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (pipeline.distributionsWithPrefix(prefix).stream().map(DocumentDistribution::getDocumentId).distinct()
                .count() < documents) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(documents + " documents without a distribution\n" + aggregator.tail());
            }
            Thread.sleep(50);
        }
    }

    @AfterEach
    void stop() {
        if (aggregator != null) {
            aggregator.close();
        }
        if (registry != null) {
            registry.descendants().forEach(ProcessHandle::destroyForcibly);
            registry.destroyForcibly();
        }
    }
}
