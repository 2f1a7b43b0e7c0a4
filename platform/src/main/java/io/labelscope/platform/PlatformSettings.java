package io.labelscope.platform;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where the local platform lives and listens. Every value can be set by an environment variable, so two checkouts
 * (or a user's own Kafka on 9092) can live side by side.
 *
 * @param home            state, logs and pid files ({@code .labelscope/} in the checkout)
 * @param host            the address everything binds to; loopback unless a user says otherwise
 * @param partitions      partitions of each created topic; more than one so workers can share the load
 * @param logMaxFileSize  size at which each service's log under {@code logs/} is rolled over, e.g. {@code 10M}
 * @param logBackups      rolled-over files kept per service; a service's logs never take more than
 *                        {@code logMaxFileSize × (logBackups + 1)}
 * @param startTimeout    how long {@code up} waits for each service to answer before it fails naming the service
 *                        and its log
 */
public record PlatformSettings(Path home, String host, int kafkaPort, int controllerPort, int registryPort,
        int partitions, String logMaxFileSize, int logBackups, Duration startTimeout) {

    public static final String ENV_HOME = "LABELSCOPE_HOME";
    public static final String ENV_HOST = "LABELSCOPE_HOST";
    public static final String ENV_KAFKA_PORT = "LABELSCOPE_KAFKA_PORT";
    public static final String ENV_CONTROLLER_PORT = "LABELSCOPE_KAFKA_CONTROLLER_PORT";
    public static final String ENV_REGISTRY_PORT = "LABELSCOPE_REGISTRY_PORT";
    public static final String ENV_PARTITIONS = "LABELSCOPE_PARTITIONS";
    public static final String ENV_LOG_MAX_FILE_SIZE = "LABELSCOPE_LOG_MAX_FILE_SIZE";
    public static final String ENV_LOG_BACKUPS = "LABELSCOPE_LOG_BACKUPS";
    public static final String ENV_START_TIMEOUT = "LABELSCOPE_START_TIMEOUT_SECONDS";

    public static final String DEFAULT_LOG_MAX_FILE_SIZE = "10M";
    public static final int DEFAULT_LOG_BACKUPS = 3;
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofMinutes(5);

    /** A size both Quarkus ({@code quarkus.log.file.rotation.max-file-size}) and log4j2 read the same way. */
    private static final Pattern SIZE = Pattern.compile("[1-9][0-9]*[KMG]");

    /** The defaults for logging and start-up (tests that only choose places and ports). */
    public PlatformSettings(Path home, String host, int kafkaPort, int controllerPort, int registryPort,
            int partitions) {
        this(home, host, kafkaPort, controllerPort, registryPort, partitions, DEFAULT_LOG_MAX_FILE_SIZE,
                DEFAULT_LOG_BACKUPS, DEFAULT_START_TIMEOUT);
    }

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
                integer(env, ENV_PARTITIONS, 3),
                size(env, ENV_LOG_MAX_FILE_SIZE, DEFAULT_LOG_MAX_FILE_SIZE),
                atLeast(env, ENV_LOG_BACKUPS, DEFAULT_LOG_BACKUPS, 1),
                Duration.ofSeconds(atLeast(env, ENV_START_TIMEOUT, (int) DEFAULT_START_TIMEOUT.toSeconds(), 1)));
    }

    private static String size(Map<String, String> env, String name, String fallback) {
        String value = env.getOrDefault(name, "").trim();
        if (value.isEmpty()) {
            return fallback;
        }
        if (!SIZE.matcher(value).matches()) {
            throw new IllegalArgumentException(name + "=" + value + " is not a size such as 512K, 10M or 1G");
        }
        return value;
    }

    private static int atLeast(Map<String, String> env, String name, int fallback, int minimum) {
        int value = integer(env, name, fallback);
        if (value < minimum) {
            throw new IllegalArgumentException(name + "=" + value + " must be at least " + minimum);
        }
        return value;
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
