package io.labelscope.cli;

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
import java.util.Optional;
import java.util.function.Consumer;

import io.labelscope.platform.PlatformSettings;

/**
 * The two labelscope services run from this checkout's build, as background processes beside the local platform:
 * one inference worker with the committed demo model, and the aggregator (which serves the dashboard). Their pids
 * and logs live under {@code .labelscope/} like the platform's, and {@link #stop()} ends exactly those pids.
 */
final class LocalServices {

    /** One service: where its build output is, the port it answers on, and how to point it at the platform. */
    record Service(String name, String module, int port, List<String> settings) {

        Path jar(Path root) {
            return root.resolve(module).resolve("target/quarkus-app/quarkus-run.jar");
        }

        String readyUrl() {
            return "http://127.0.0.1:" + port + "/q/health/ready";
        }
    }

    static final String ENV_DASHBOARD_PORT = "LABELSCOPE_DASHBOARD_PORT";
    static final String ENV_WORKER_PORT = "LABELSCOPE_WORKER_PORT";

    private final Path root;
    private final PlatformSettings platform;
    private final List<Service> services;

    LocalServices(Path root, PlatformSettings platform) {
        this.root = root;
        this.platform = platform;
        int dashboard = port(ENV_DASHBOARD_PORT, 8080);
        int worker = port(ENV_WORKER_PORT, 8083);
        Path home = platform.home();
        this.services = List.of(
                new Service("inference-worker", "inference-worker", worker, List.of(
                        "-Dquarkus.http.host=" + platform.host(),
                        "-Dquarkus.http.port=" + worker,
                        "-Dkafka.bootstrap.servers=" + platform.bootstrapServers(),
                        "-Dlabelscope.registry.url=" + platform.registryUrl(),
                        "-Dlabelscope.worker.model.path=" + root.resolve("models/demo"),
                        "-Dlabelscope.worker.task-dir=" + root.resolve("tasks"))),
                new Service("aggregator", "aggregator", dashboard, List.of(
                        "-Dquarkus.http.host=" + platform.host(),
                        "-Dquarkus.http.port=" + dashboard,
                        "-Dquarkus.kafka-streams.bootstrap-servers=" + platform.bootstrapServers(),
                        "-Dlabelscope.registry.url=" + platform.registryUrl(),
                        "-Dkafka-streams.state.dir=" + home.resolve("aggregator-state"))));
    }

    static Path checkoutRoot() {
        String root = System.getenv("LABELSCOPE_ROOT");
        return Path.of(root != null ? root : "").toAbsolutePath().normalize();
    }

    List<Service> services() {
        return services;
    }

    Service service(String name) {
        return services.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
    }

    String dashboardUrl() {
        return "http://" + platform.host() + ":" + service("aggregator").port() + "/";
    }

    /** Starts each service whose recorded pid is not alive; returns the names it started. */
    List<String> start(Consumer<String> progress) throws IOException {
        Files.createDirectories(platform.home().resolve("logs"));
        List<String> started = new ArrayList<>();
        for (Service service : services) {
            if (alive(service).isPresent()) {
                continue;
            }
            Path jar = service.jar(root);
            if (!Files.isRegularFile(jar)) {
                throw new Labelscope.UserError(service.name() + " is not built (" + jar + " is missing): run "
                        + "./labelscope again, or mvn -Dmaven.test.skip=true install -pl " + service.module() + " -am", 1);
            }
            progress.accept("starting " + service.name() + " on port " + service.port() + " …");
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("-XX:+UseSerialGC");
            command.addAll(service.settings());
            command.add("-jar");
            command.add(jar.toString());
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(root.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log(service).toFile()));
            builder.environment().put("DJL_OFFLINE", "true");
            builder.environment().putIfAbsent("DJL_CACHE_DIR", platform.home().resolve("djl").toString());
            Process process = builder.start();
            Files.writeString(pidFile(service), Long.toString(process.pid()));
            started.add(service.name());
        }
        return started;
    }

    /** Waits until every service reports ready, or fails naming the one that did not and its log. */
    void awaitReady(Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Service service : services) {
            while (true) {
                if (alive(service).isEmpty()) {
                    throw new Labelscope.UserError(service.name() + " exited during start-up; see " + log(service), 1);
                }
                try {
                    HttpResponse<Void> response = http.send(HttpRequest.newBuilder(URI.create(service.readyUrl()))
                            .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.discarding());
                    if (response.statusCode() == 200) {
                        break;
                    }
                } catch (IOException e) {
                    // not listening yet
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new Labelscope.UserError("interrupted", 130);
                }
                if (System.nanoTime() > deadline) {
                    throw new Labelscope.UserError(service.name() + " was not ready within " + timeout.toSeconds()
                            + " s; see " + log(service), 1);
                }
                sleep(500);
            }
        }
    }

    /** Stops the recorded services; returns the names it stopped. */
    List<String> stop() throws IOException {
        List<String> stopped = new ArrayList<>();
        List<Service> lastFirst = new ArrayList<>(services);
        java.util.Collections.reverse(lastFirst);
        for (Service service : lastFirst) {
            Optional<ProcessHandle> process = alive(service).flatMap(ProcessHandle::of);
            if (process.isPresent()) {
                process.get().destroy();
                try {
                    process.get().onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    process.get().destroyForcibly();
                }
                stopped.add(service.name());
            }
            Files.deleteIfExists(pidFile(service));
        }
        return stopped;
    }

    Optional<Long> alive(Service service) {
        try {
            long pid = Long.parseLong(Files.readString(pidFile(service)).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(h -> pid);
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    Path log(Service service) {
        return platform.home().resolve("logs").resolve(service.name() + ".log");
    }

    private Path pidFile(Service service) {
        return platform.home().resolve(service.name() + ".pid");
    }

    private static int port(String variable, int fallback) {
        try {
            return PlatformSettings.port(System.getenv(), variable, fallback);
        } catch (IllegalArgumentException e) {
            throw new Labelscope.UserError(e.getMessage(), 2);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
