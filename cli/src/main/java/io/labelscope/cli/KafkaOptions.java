package io.labelscope.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import io.labelscope.platform.PlatformSettings;
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
                throw new Labelscope.UserError("cannot read --kafka-config " + kafkaConfig + ": " + e.getMessage(), 2);
            }
            file.forEach((k, v) -> settings.put(k.toString(), v));
        }
        settings.put("bootstrap.servers", bootstrapServers());
        return settings;
    }
}
