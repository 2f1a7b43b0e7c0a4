package io.labelscope.platform.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;


import io.labelscope.platform.ApicurioRegistry;
import io.labelscope.platform.RegistryClient;
import io.labelscope.platform.TopicAdmin;
import io.labelscope.platform.TopicDefinition;

/**
 * One real Kafka broker and one real schema registry per test JVM, shared by every test in it.
 *
 * <p>The broker is Kafka's own KRaft test kit in this JVM (Testcontainers' Kafka when a Docker daemon answers, see
 * {@link TestBroker}); the registry is the Apicurio distribution in a child process. Both start on first use and stop when the JVM exits. The registry child is watched by a tiny shell
 * loop that kills it if this JVM dies without running its shutdown hooks (kill -9), so a test run never leaves a
 * process behind.
 */
public final class TestPlatform {

    private static TestPlatform instance;

    private final TestBroker kafka;
    private final Process registryProcess;
    private final String registryUrl;
    private final Path home;

    private TestPlatform(TestBroker kafka, Process registryProcess, String registryUrl, Path home) {
        this.kafka = kafka;
        this.registryProcess = registryProcess;
        this.registryUrl = registryUrl;
        this.home = home;
    }

    /** The shared platform, started on first call. */
    public static synchronized TestPlatform get() {
        if (instance == null) {
            instance = start();
            Runtime.getRuntime().addShutdownHook(new Thread(instance::stop, "labelscope-test-platform-stop"));
        }
        return instance;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** Base URL of the registry, e.g. {@code http://127.0.0.1:41234}. */
    public String registryUrl() {
        return registryUrl;
    }

    public RegistryClient registry() {
        return new RegistryClient(registryUrl);
    }

    /** Creates the given topics (if missing) and registers their value subjects. */
    public void ensureTopics(List<TopicDefinition> topics, int partitions) {
        try {
            TopicAdmin.ensure(bootstrapServers(), Map.of(), registry(), topics, partitions);
        } catch (Exception e) {
            throw new IllegalStateException("could not create test topics: " + e.getMessage(), e);
        }
    }

    public Properties clientProperties() {
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrapServers());
        return props;
    }

    private static TestPlatform start() {
        Path home;
        TestBroker kafka = null;
        Process registry = null;
        try {
            home = Files.createTempDirectory("labelscope-test-platform");
            kafka = TestBroker.start(home);

            int port = ChildProcesses.freePort();
            String url = "http://127.0.0.1:" + port;
            Path log = home.resolve("registry.log");
            registry = new ProcessBuilder(ChildProcesses.watchedByThisJvm(ApicurioRegistry.command("127.0.0.1", port)))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            RegistryClient client = new RegistryClient(url);
            Process started = registry;
            ApicurioRegistry.awaitReady(client, started::isAlive, log, 120_000);
            client.setGlobalCompatibility("BACKWARD");
            return new TestPlatform(kafka, registry, url, home);
        } catch (Exception e) {
            if (registry != null) {
                registry.descendants().forEach(ProcessHandle::destroyForcibly);
                registry.destroyForcibly();
            }
            if (kafka != null) {
                kafka.close();
            }
            throw new IllegalStateException("could not start the test broker and registry: " + e.getMessage(), e);
        }
    }

    private synchronized void stop() {
        registryProcess.descendants().forEach(ProcessHandle::destroy);
        registryProcess.destroy();
        kafka.close();
        deleteQuietly(home);
    }

    private static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: it is a temp directory
        }
    }
}
