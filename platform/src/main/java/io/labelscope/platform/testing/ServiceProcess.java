package io.labelscope.worker;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.labelscope.platform.testing.ChildProcesses;

/**
 * The packaged worker ({@code target/quarkus-app/quarkus-run.jar}) as a child process, started under a small shell
 * loop that kills it if the test JVM dies, so no test run leaves a worker behind.
 */
final class WorkerProcess implements AutoCloseable {
    private final String name;
    private final Process shell;
    private final Path log;
    private final int httpPort;

    private WorkerProcess(String name, Process shell, Path log, int httpPort) {
        this.name = name;
        this.shell = shell;
        this.log = log;
        this.httpPort = httpPort;
    }

    static WorkerProcess start(String name, Map<String, String> properties) throws IOException {
        String jar = System.getProperty("labelscope.worker.jar", "target/quarkus-app/quarkus-run.jar");
        if (!Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException(jar + " is missing: run `mvn package` first (failsafe runs after it)");
        }
        return start(name, Path.of(jar), properties);
    }

    /** Any packaged Quarkus service of this repository (e.g. the aggregator's quarkus-run.jar), watched the same way. */
    static WorkerProcess start(String name, Path jar, Map<String, String> properties) throws IOException {
        int port = ChildProcesses.freePort();
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Xmx384m");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-Dquarkus.http.port=" + port);
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.add("-jar");
        cmd.add(jar.toAbsolutePath().toString());
        Path logs = Path.of("target", "it-logs");
        Files.createDirectories(logs);
        Path log = Files.createTempFile(logs, name + "-", ".log");
        Process p = new ProcessBuilder(ChildProcesses.watchedByThisJvm(cmd)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        WorkerProcess w = new WorkerProcess(name, p, log, port);
        Runtime.getRuntime().addShutdownHook(new Thread(w::close));
        return w;
    }

    /** The worker's JVM (the shell's java child). */
    Optional<ProcessHandle> java() {
        return shell.descendants().filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(false))
                .findFirst();
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    /** Waits until the log has {@code count} matches of {@code regex}; fails with the log tail otherwise. */
    void awaitLog(String regex, int count, Duration timeout) throws InterruptedException {
        Pattern p = Pattern.compile(regex);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = p.matcher(log());
            int n = 0;
            while (m.find()) {
                n++;
            }
            if (n >= count) {
                return;
            }
            if (!shell.isAlive()) {
                throw new AssertionError(name + " exited (" + shell.exitValue() + ") before logging " + regex
                        + ":\n" + tail());
            }
            Thread.sleep(100);
        }
        throw new AssertionError(name + " did not log " + regex + " x" + count + " within " + timeout + ":\n" + tail());
    }

    String tail() {
        String l = log();
        return l.length() > 6000 ? l.substring(l.length() - 6000) : l;
    }

    /** kill -9 of the worker JVM, then waits for it to be gone. */
    void kill9() throws Exception {
        ProcessHandle h = java().orElseThrow(() -> new AssertionError(name + ": no java process"));
        h.destroyForcibly();
        h.onExit().get(30, TimeUnit.SECONDS);
        shell.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM (graceful shutdown); true if the worker exited within the timeout. */
    boolean stop(Duration timeout) throws Exception {
        Optional<ProcessHandle> h = java();
        if (h.isEmpty()) {
            return !shell.isAlive();
        }
        h.get().destroy();
        return shell.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    String get(String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + "\n" + r.body();
    }

    /** Sum of a Prometheus sample's values over its label sets. */
    double metric(String name) throws Exception {
        double sum = 0;
        for (String line : get("/q/metrics").split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    @Override
    public void close() {
        java().ifPresent(ProcessHandle::destroyForcibly);
        shell.descendants().forEach(ProcessHandle::destroyForcibly);
        shell.destroyForcibly();
    }

}
