package io.labelscope.platform.testing;

import java.nio.file.Path;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;

/** The real Kafka broker behind {@link TestPlatform}: in this JVM, or in a container when Docker answers. */
interface TestBroker extends AutoCloseable {

    /** Which broker to use: {@code -Dlabelscope.test.kafka=auto|embedded|container} (default auto). */
    String SELECTOR = "labelscope.test.kafka";

    String bootstrapServers();

    @Override
    void close();

    static TestBroker start(Path home) throws Exception {
        String choice = System.getProperty(SELECTOR, "auto");
        boolean container = switch (choice) {
            case "container" -> true;
            case "embedded" -> false;
            // Test classpaths without Testcontainers never touch ContainerBroker (it would not link).
            case "auto" -> testcontainersPresent() && ContainerBroker.dockerAnswers();
            default -> throw new IllegalArgumentException(SELECTOR + "=" + choice + " (auto, embedded or container)");
        };
        return container ? ContainerBroker.start() : EmbeddedBroker.start(home);
    }

    private static boolean testcontainersPresent() {
        try {
            Class.forName("org.testcontainers.DockerClientFactory", false, TestBroker.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** Kafka's own KRaft test kit: one combined broker+controller node in this JVM. */
    final class EmbeddedBroker implements TestBroker {
        private final KafkaClusterTestKit kit;
        private boolean closed;

        private EmbeddedBroker(KafkaClusterTestKit kit) {
            this.kit = kit;
        }

        static EmbeddedBroker start(Path home) throws Exception {
            KafkaClusterTestKit kit = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .setBootstrapMetadataVersion(MetadataVersion.latestProduction())
                    .setBaseDirectory(home.resolve("kafka"))
                    .build())
                    .setConfigProp("offsets.topic.replication.factor", "1")
                    .setConfigProp("offsets.topic.num.partitions", "3")
                    .setConfigProp("transaction.state.log.replication.factor", "1")
                    .setConfigProp("transaction.state.log.min.isr", "1")
                    .setConfigProp("transaction.state.log.num.partitions", "3")
                    .setConfigProp("group.initial.rebalance.delay.ms", "0")
                    .setConfigProp("num.partitions", "3")
                    .build();
            EmbeddedBroker broker = new EmbeddedBroker(kit);
            try {
                kit.format();
                kit.startup();
                kit.waitForReadyBrokers();
                return broker;
            } catch (Exception e) {
                broker.close();
                throw e;
            }
        }

        @Override
        public String bootstrapServers() {
            return kit.bootstrapServers();
        }

        @Override
        public synchronized void close() {
            // The test kit's close() is not idempotent.
            if (!closed) {
                closed = true;
                try {
                    kit.close();
                } catch (Exception e) {
                    // shutting down: nothing left to save
                }
            }
        }
    }

    /** Testcontainers' Kafka (KRaft, apache/kafka image), for machines with a Docker daemon. */
    final class ContainerBroker implements TestBroker {
        static final String IMAGE = "apache/kafka:4.1.2";
        private final org.testcontainers.kafka.KafkaContainer container;

        private ContainerBroker(org.testcontainers.kafka.KafkaContainer container) {
            this.container = container;
        }

        static boolean dockerAnswers() {
            // Without a socket or DOCKER_HOST there is nothing to ask, and Testcontainers' probe logs pages of
            // errors on its way to "no".
            if (System.getenv("DOCKER_HOST") == null && !java.nio.file.Files.exists(Path.of("/var/run/docker.sock"))) {
                return false;
            }
            try {
                return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
            } catch (RuntimeException | LinkageError e) {
                return false;
            }
        }

        static ContainerBroker start() {
            var container = new org.testcontainers.kafka.KafkaContainer(IMAGE)
                    .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                    .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                    .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
            container.start();
            return new ContainerBroker(container);
        }

        @Override
        public String bootstrapServers() {
            return container.getBootstrapServers();
        }

        @Override
        public void close() {
            container.stop();
        }
    }
}
