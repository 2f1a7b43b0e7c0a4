package io.labelscope.platform.testing;

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

/**
 * A packaged Quarkus service of this repository (its {@code target/quarkus-app/quarkus-run.jar}: the worker, the
 * aggregator) as a child process for process-level tests: kill -9, restarts, several instances. It runs under a
 * small shell loop that kills it if the test JVM dies, so no test run leaves a service behind.
 */
public final class ServiceProcess implements AutoCloseable {
    private final String name;
    private final Process shell;
    private final Path log;
    private final int httpPort;

    private ServiceProcess(String name, Process shell, Path log, int httpPort) {
        this.name = name;
        this.shell = shell;
        this.log = log;
        this.httpPort = httpPort;
    }

    /**
     * Starts {@code java -jar jar} with each property as {@code -Dkey=value} and a free HTTP port; its output goes to
     * {@code target/it-logs/<name>-*.log}.
     */
    public static ServiceProcess start(String name, Path jar, Map<String, String> properties) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar.toAbsolutePath() + " is missing: package the service first "
                    + "(`mvn package`; failsafe runs after it)");
        }
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
        ServiceProcess service = new ServiceProcess(name, p, log, port);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close));
        return service;
    }

    /** The HTTP port the service was started on (its REST API, and the address a Kafka Streams service advertises). */
    public int httpPort() {
        return httpPort;
    }

    /** The service's JVM (the shell's java child). */
    public Optional<ProcessHandle> java() {
        return shell.descendants().filter(h -> h.info().command().map(c -> c.endsWith("java")).orElse(false))
                .findFirst();
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    /** Waits until the log has {@code count} matches of {@code regex}; fails with the log tail otherwise. */
    public void awaitLog(String regex, int count, Duration timeout) throws InterruptedException {
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

    public String tail() {
        String l = log();
        return l.length() > 6000 ? l.substring(l.length() - 6000) : l;
    }

    /** kill -9 of the service's JVM, then waits for it to be gone. */
    public void kill9() throws Exception {
        ProcessHandle h = java().orElseThrow(() -> new AssertionError(name + ": no java process"));
        h.destroyForcibly();
        h.onExit().get(30, TimeUnit.SECONDS);
        shell.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM (graceful shutdown); true if the service exited within the timeout. */
    public boolean stop(Duration timeout) throws Exception {
        Optional<ProcessHandle> h = java();
        if (h.isEmpty()) {
            return !shell.isAlive();
        }
        h.get().destroy();
        return shell.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public String get(String path) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + "\n" + r.body();
    }

    /** Sum of a Prometheus sample's values over its label sets. */
    public double metric(String name) throws Exception {
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
