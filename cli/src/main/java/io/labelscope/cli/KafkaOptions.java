package io.labelscope.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.KafkaException;

import io.labelscope.platform.PlatformSettings;
import io.labelscope.platform.RegistryClient;
import picocli.CommandLine.Option;

/**
 * Where the broker and the registry are, shared by every command that talks to Kafka. Defaults are the local
 * platform's; {@code --kafka-config} passes any client setting through (TLS, SASL) for a real cluster.
 */
final class KafkaOptions {

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (default: the local platform, 127.0.0.1:9092 or LABELSCOPE_KAFKA_PORT).")
    String bootstrapServers;

    @Option(names = "--registry-url", paramLabel = "URL",
            description = "Schema registry base URL (default: the local platform, http://127.0.0.1:8081).")
    String registryUrl;

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Properties file of extra Kafka client settings, e.g. security.protocol, sasl.*, ssl.*.")
    Path kafkaConfig;

    /**
     * How long {@link #requireBroker} waits for a broker to answer. Long enough for a loaded machine's local
     * broker, short enough that "nothing is listening" is reported within the ~10 s a user waits.
     */
    static final Duration BROKER_CHECK_TIMEOUT = Duration.ofSeconds(5);

    String bootstrapServers() {
        return bootstrapServers != null ? bootstrapServers : PlatformSettings.fromEnvironment().bootstrapServers();
    }

    String registryUrl() {
        return registryUrl != null ? registryUrl : PlatformSettings.fromEnvironment().registryUrl();
    }

    /** The client settings from {@code --kafka-config}, then the bootstrap servers. */
    Map<String, Object> clientSettings() {
        Map<String, Object> settings = new HashMap<>();
        if (kafkaConfig != null) {
            Properties file = new Properties();
            try (Reader reader = Files.newBufferedReader(kafkaConfig)) {
                file.load(reader);
            } catch (IOException e) {
                throw new Labelscope.UserError("cannot read --kafka-config " + kafkaConfig + ": " + e.getMessage(),
                        ExitCode.USAGE);
            }
            file.forEach((k, v) -> settings.put(k.toString(), v));
        }
        settings.put("bootstrap.servers", bootstrapServers());
        return settings;
    }

    /**
     * Fails with one line naming the address (exit {@link ExitCode#UNREACHABLE}) unless a broker answers a
     * describe-cluster call within {@link #BROKER_CHECK_TIMEOUT}. Commands call this before they create their
     * producers and consumers: those would otherwise retry for a minute, warning on every attempt.
     */
    void requireBroker() {
        Map<String, Object> settings = clientSettings();
        int timeoutMs = (int) BROKER_CHECK_TIMEOUT.toMillis();
        settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs);
        settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs);
        settings.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MS_CONFIG, timeoutMs / 2);
        settings.put(AdminClientConfig.SOCKET_CONNECTION_SETUP_TIMEOUT_MAX_MS_CONFIG, timeoutMs / 2);
        String why;
        Admin admin;
        try {
            admin = Admin.create(settings);
        } catch (KafkaException e) {
            // An address that does not resolve fails here, before any connection ("No resolvable bootstrap urls").
            throw unreachableBroker(rootMessage(e));
        }
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(timeoutMs)).clusterId()
                    .get(timeoutMs + 1000L, TimeUnit.MILLISECONDS);
            return;
        } catch (ExecutionException e) {
            why = e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException
                    ? "no broker answered within " + BROKER_CHECK_TIMEOUT.toSeconds() + " s"
                    : rootMessage(e.getCause());
        } catch (TimeoutException e) {
            why = "no broker answered within " + BROKER_CHECK_TIMEOUT.toSeconds() + " s";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            why = "interrupted";
        } finally {
            admin.close(Duration.ZERO);
        }
        throw unreachableBroker(why);
    }

    /**
     * Fails with one line naming the registry's URL (exit {@link ExitCode#UNREACHABLE}) unless it answers. Every
     * Avro topic's records need it, to register or look up their schema.
     */
    void requireRegistry() {
        String url = registryUrl();
        boolean answers;
        try {
            answers = new RegistryClient(url).answers();
        } catch (IllegalArgumentException e) {
            throw new Labelscope.UserError("--registry-url " + url + " is not a URL: " + e.getMessage(),
                    ExitCode.USAGE);
        }
        if (!answers) {
            throw new Labelscope.UserError("cannot reach the schema registry at " + url + " (no answer from "
                    + url + RegistryClient.CONFLUENT_API + "/subjects); start the platform with ./labelscope up, "
                    + "or point --registry-url at your registry", ExitCode.UNREACHABLE);
        }
    }

    private Labelscope.UserError unreachableBroker(String why) {
        return new Labelscope.UserError("cannot reach Kafka at " + bootstrapServers() + " (" + why + "); start the "
                + "platform with ./labelscope up, or point --bootstrap-servers at your cluster", ExitCode.UNREACHABLE);
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        return message.lines().findFirst().orElse(message);
    }
}
