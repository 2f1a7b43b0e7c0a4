package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;

/**
 * With nothing listening where the broker or the registry should be, the commands fail quickly with one line
 * that names the address. Each command runs as its own JVM, as a user runs it, so the assertion on stderr covers
 * everything the Kafka client would print there, not only the command's own message.
 */
@ExtendWith(RealKafka.class)
class UnreachableServicesTest {

    /** The issue asks for "within ~10 s"; the margin is for a loaded machine's JVM start. */
    private static final Duration BOUND = Duration.ofSeconds(15);

    record Finished(int exitCode, String stderr, Duration took) {
    }

    @Test
    void withNoBrokerProduceTailTaskAndTopicsFailFastWithOneLineNamingTheAddress(@TempDir Path dir) throws Exception {
        String address = "127.0.0.1:" + freePort();
        Path docs = dir.resolve("docs.csv");
        Files.writeString(docs, "id,text\nd1,hello\n");
        Path taskFile = dir.resolve("t.json");
        Files.writeString(taskFile, "{\"name\": \"t\", \"labels\": [\"a\", \"b\"]}");
        List<List<String>> commands = List.of(
                List.of("produce", "documents", docs.toString(), "--task", "t"),
                List.of("tail", "distributions", "--idle-timeout", "30"),
                List.of("task", "list"),
                List.of("task", "register", taskFile.toString()),
                List.of("task", "show", "t", "--render", "--model", "../models/demo/goemotions"),
                List.of("export", "distributions", "--task", "t", "--format", "csv", "--out",
                        dir.resolve("export.csv").toString()),
                List.of("topics", "ensure"));
        for (List<String> command : commands) {
            List<String> args = new ArrayList<>(command);
            args.addAll(List.of("--bootstrap-servers", address));
            Finished finished = labelscope(args);
            assertThat(finished.exitCode()).as(command + ": " + finished.stderr()).isEqualTo(ExitCode.UNREACHABLE);
            assertThat(finished.took()).as(command.toString()).isLessThan(BOUND);
            assertThat(finished.stderr().strip().lines()).as(command.toString()).singleElement().asString()
                    .contains("cannot reach Kafka at " + address).contains("./labelscope up");
        }
    }

    @Test
    void withTheRegistryDownTheMessageNamesItsUrl(TestPlatform platform, @TempDir Path dir) throws Exception {
        String registry = "http://127.0.0.1:" + freePort();
        Path docs = dir.resolve("docs.csv");
        Files.writeString(docs, "id,text\nd1,hello\n");
        for (List<String> command : List.of(
                List.of("produce", "documents", docs.toString(), "--task", "t", "--no-check"),
                List.of("tail", "dead-letters", "--idle-timeout", "30"),
                List.of("export", "steps", "--task", "t", "--format", "jsonl", "--out",
                        dir.resolve("steps.jsonl").toString()))) {
            List<String> args = new ArrayList<>(command);
            args.addAll(List.of("--bootstrap-servers", platform.bootstrapServers(), "--registry-url", registry));
            Finished finished = labelscope(args);
            assertThat(finished.exitCode()).as(command + ": " + finished.stderr()).isEqualTo(ExitCode.UNREACHABLE);
            assertThat(finished.took()).as(command.toString()).isLessThan(BOUND);
            assertThat(finished.stderr().strip().lines()).as(command.toString()).singleElement().asString()
                    .contains("cannot reach the schema registry at " + registry).contains("./labelscope up");
        }
    }

    /** Runs the command line in a JVM of its own, on this test's class path, and waits at most a minute. */
    private static Finished labelscope(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), Labelscope.class.getName()));
        command.addAll(args);
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        byte[] stderr = process.getErrorStream().readAllBytes();
        if (!process.waitFor(1, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(args + " did not end within a minute");
        }
        return new Finished(process.exitValue(), new String(stderr, StandardCharsets.UTF_8),
                Duration.ofNanos(System.nanoTime() - start));
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
