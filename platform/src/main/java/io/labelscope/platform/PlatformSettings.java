package io.labelscope.platform;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where the local platform lives and listens. Every value can be set by an environment variable, so two checkouts
 * (or a user's own Kafka on 9092) can live side by side.
 *
 * @param home            state, logs and pid files ({@code .labelscope/} in the checkout)
 * @param host            the address everything binds to; loopback unless a user says otherwise
 * @param partitions      partitions of each created topic; more than one so workers can share the load
 */
public record PlatformSettings(Path home, String host, int kafkaPort, int controllerPort, int registryPort,
        int partitions) {

    public static final String ENV_HOME = "LABELSCOPE_HOME";
    public static final String ENV_HOST = "LABELSCOPE_HOST";
    public static final String ENV_KAFKA_PORT = "LABELSCOPE_KAFKA_PORT";
    public static final String ENV_CONTROLLER_PORT = "LABELSCOPE_KAFKA_CONTROLLER_PORT";
    public static final String ENV_REGISTRY_PORT = "LABELSCOPE_REGISTRY_PORT";
    public static final String ENV_PARTITIONS = "LABELSCOPE_PARTITIONS";

    public static PlatformSettings fromEnvironment() {
        return from(System.getenv());
    }

    public static PlatformSettings from(Map<String, String> env) {
        return new PlatformSettings(
                Path.of(env.getOrDefault(ENV_HOME, ".labelscope")).toAbsolutePath().normalize(),
                env.getOrDefault(ENV_HOST, "127.0.0.1"),
                port(env, ENV_KAFKA_PORT, 9092),
                port(env, ENV_CONTROLLER_PORT, 9093),
                port(env, ENV_REGISTRY_PORT, 8081),
                integer(env, ENV_PARTITIONS, 3));
    }

    public String bootstrapServers() {
        return host + ":" + kafkaPort;
    }

    public String registryUrl() {
        return "http://" + host + ":" + registryPort;
    }

    /** A port from the environment variable {@code name}, or the fallback; a value that is no port is an error. */
    public static int port(Map<String, String> env, String name, int fallback) {
        int port = integer(env, name, fallback);
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(name + "=" + port + " is not a TCP port (1-65535)");
        }
        return port;
    }

    private static int integer(Map<String, String> env, String name, int fallback) {
        String value = env.get(name);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "=" + value + " is not a number");
        }
    }
}
