package io.labelscope.platform;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The Apicurio Registry distribution that the build unpacked from Maven Central, and how to start it: a Quarkus
 * app serving the Confluent API at {@code /apis/ccompat/v7}.
 *
 * <p>Apicurio 2.6 keeps its storage in H2 through a Quarkus datasource ({@code quarkus.datasource.jdbc.url}; the
 * distribution's default is {@code jdbc:h2:mem:registry_db}). Tests use that in-memory default; the local platform
 * points it at an H2 file so that schema ids, which are written into every Kafka record, mean the same schema after
 * any restart — an in-memory registry hands an old id to a different schema and old records then decode as the
 * wrong record.
 */
public final class ApicurioRegistry {

    private ApicurioRegistry() {
    }

    /** The runner jar of the unpacked distribution. */
    public static Path runnerJar() {
        Properties build = new Properties();
        try (InputStream in = ApicurioRegistry.class.getResourceAsStream("/labelscope-platform.properties")) {
            build.load(in);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("labelscope-platform.properties is missing from the classpath: "
                    + "rebuild the platform module", e);
        }
        Path home = Path.of(System.getProperty("labelscope.apicurio.home", build.getProperty("apicurio.home")));
        Path jar = home.resolve("apicurio-registry-app-" + build.getProperty("apicurio.version") + "-runner.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("Apicurio Registry is not unpacked at " + jar
                    + ": run `mvn -pl platform package` (it downloads it from Maven Central)");
        }
        return jar;
    }

    /** The command that runs the registry on host:port with a small heap and in-memory storage (tests). */
    public static List<String> command(String host, int port) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx384m");
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Dquarkus.http.host=" + host);
        command.add("-Dquarkus.http.port=" + port);
        // Nothing of ours talks to it from a browser; keep its console and telemetry quiet.
        command.add("-Dquarkus.log.level=WARN");
        command.add("-Dregistry.auth.enabled=false");
        command.add("-jar");
        command.add(runnerJar().toString());
        return command;
    }

    /**
     * The command that runs the registry with its storage in the H2 file {@code <dataDir>/registry.mv.db} and its log
     * in {@code log}, rolled over at {@code maxFileSize} with {@code backups} old files kept.
     *
     * <p>{@code WRITE_DELAY=0}: H2 otherwise writes committed changes up to half a second later, and a kill -9 in
     * that window would lose a schema whose id a producer has already written into records.
     */
    public static List<String> durableCommand(String host, int port, Path dataDir, Path log, String maxFileSize,
            int backups) {
        List<String> command = command(host, port);
        int jar = command.indexOf("-jar");
        command.addAll(jar, List.of(
                "-Dquarkus.datasource.jdbc.url=jdbc:h2:file:" + dataDir.resolve("registry").toAbsolutePath()
                        + ";WRITE_DELAY=0",
                // The distribution opens 20 connections at start; one local user needs few.
                "-Dquarkus.datasource.jdbc.initial-size=2",
                "-Dquarkus.datasource.jdbc.min-size=2",
                "-Dquarkus.log.console.enable=false",
                "-Dquarkus.log.file.enable=true",
                "-Dquarkus.log.file.path=" + log.toAbsolutePath(),
                "-Dquarkus.log.file.rotation.max-file-size=" + maxFileSize,
                "-Dquarkus.log.file.rotation.max-backup-index=" + backups));
        return command;
    }

    /**
     * Waits until the registry answers, or fails with the last lines of its log.
     *
     * @param alive whether the registry's process still runs (a dead one will never answer)
     */
    public static void awaitReady(RegistryClient client, java.util.function.BooleanSupplier alive, Path log,
            long timeoutMillis) {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            if (!alive.getAsBoolean()) {
                throw new IllegalStateException("schema registry exited during start-up; log " + log + ":\n"
                        + tail(log));
            }
            if (client.answers()) {
                return;
            }
            sleep(250);
        }
        throw new IllegalStateException("schema registry did not answer within " + timeoutMillis / 1000
                + " s; log " + log + ":\n" + tail(log));
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        } catch (UncheckedIOException e) {
            return "(unreadable log)";
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
