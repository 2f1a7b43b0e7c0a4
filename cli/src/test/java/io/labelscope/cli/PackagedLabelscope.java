package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The packaged command line ({@code target/labelscope-cli.jar} and {@code target/lib}, as {@code ./labelscope} runs
 * it once built) on a fresh {@code LABELSCOPE_HOME} with free ports of its own, so the failsafe tests that start the
 * packaged services never meet another run's broker or state. Needs the worker and aggregator packaged in this
 * build tree (they come before cli in the reactor).
 */
final class PackagedLabelscope {

    /** The checkout: the launcher's working directory, so relative paths such as {@code models/demo/...} resolve. */
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    record Result(int exit, String output) {
    }

    private final Path home;
    /** The environment every command runs with; tests may add to it (e.g. a start timeout) between commands. */
    final Map<String, String> env = new HashMap<>();

    PackagedLabelscope(Path home) throws IOException {
        for (String module : List.of("inference-worker", "aggregator")) {
            Path jar = ROOT.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
            assertThat(jar).as("package " + module + " before this test (mvn package; failsafe runs after it)")
                    .isRegularFile();
        }
        this.home = home;
        env.put("LABELSCOPE_HOME", home.toString());
        env.put("LABELSCOPE_ROOT", ROOT.toString());
        env.put("LABELSCOPE_KAFKA_PORT", Integer.toString(freePort()));
        env.put("LABELSCOPE_KAFKA_CONTROLLER_PORT", Integer.toString(freePort()));
        env.put("LABELSCOPE_REGISTRY_PORT", Integer.toString(freePort()));
        env.put("LABELSCOPE_DASHBOARD_PORT", Integer.toString(freePort()));
        env.put("LABELSCOPE_WORKER_PORT", Integer.toString(freePort()));
    }

    String bootstrapServers() {
        return "127.0.0.1:" + env.get("LABELSCOPE_KAFKA_PORT");
    }

    /** The registry's Confluent API, as the README's client snippets name it. */
    String confluentRegistryUrl() {
        return "http://127.0.0.1:" + env.get("LABELSCOPE_REGISTRY_PORT") + "/apis/ccompat/v7";
    }

    /** Runs one command (stdout and stderr together), failing the test if it does not end within the timeout. */
    Result run(Duration timeout, String... args) throws Exception {
        Path cli = ROOT.resolve("cli/target");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dlabelscope.broker.logging.classpath=" + cli.resolve("broker-logging") + "/*",
                "-cp", cli.resolve("labelscope-cli.jar") + ":" + cli.resolve("lib") + "/*",
                "io.labelscope.cli.Labelscope"));
        command.addAll(List.of(args));
        Path output = Files.createTempFile(home, "cli-", ".out");
        ProcessBuilder builder = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile());
        builder.environment().putAll(env);
        Process process = builder.start();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("labelscope " + String.join(" ", args) + " did not end within " + timeout
                    + ":\n" + Files.readString(output));
        }
        return new Result(process.exitValue(), Files.readString(output));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
