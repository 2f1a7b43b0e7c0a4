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
 * app, in-memory storage, serving the Confluent API at {@code /apis/ccompat/v7}.
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

    /** The command that runs the registry on host:port with a small heap. */
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
