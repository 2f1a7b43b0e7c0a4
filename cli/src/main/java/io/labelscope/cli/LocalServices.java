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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import io.labelscope.platform.PlatformSettings;
import io.labelscope.platform.Supervisor;

/**
 * The two labelscope services run from this checkout's build, as background processes beside the local platform:
 * one inference worker with the committed demo model, and the aggregator (which serves the dashboard). Like the
 * platform's, each runs under the {@link Supervisor}'s restart loop (a service that dies is started again), its pid
 * and start time are recorded under {@code .labelscope/}, and {@link #stop()} ends exactly those processes. Each logs
 * to {@code logs/<name>.log}, rolled over by Quarkus ({@code quarkus.log.file.rotation.*}) at the platform's
 * {@link PlatformSettings#logMaxFileSize()} with {@link PlatformSettings#logBackups()} old files.
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

    static final String WORKER = "inference-worker";
    static final String AGGREGATOR = "aggregator";
    static final String ENV_DASHBOARD_PORT = "LABELSCOPE_DASHBOARD_PORT";
    static final String ENV_WORKER_PORT = "LABELSCOPE_WORKER_PORT";

    private final Path root;
    private final PlatformSettings platform;
    private final Supervisor supervisor;
    private final List<Service> services;

    LocalServices(Path root, PlatformSettings platform) {
        this.root = root;
        this.platform = platform;
        this.supervisor = new Supervisor(platform.home());
        int dashboard = port(ENV_DASHBOARD_PORT, 8080);
        int worker = port(ENV_WORKER_PORT, 8083);
        Path home = platform.home();
        this.services = List.of(
                new Service(WORKER, "inference-worker", worker, List.of(
                        "-Dquarkus.http.host=" + platform.host(),
                        "-Dquarkus.http.port=" + worker,
                        "-Dkafka.bootstrap.servers=" + platform.bootstrapServers(),
                        "-Dlabelscope.registry.url=" + platform.registryUrl(),
                        "-Dlabelscope.worker.model.path=" + root.resolve("models/demo"),
                        "-Dlabelscope.worker.task-dir=" + root.resolve("tasks"))),
                new Service(AGGREGATOR, "aggregator", dashboard, List.of(
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
        return "http://" + platform.host() + ":" + service(AGGREGATOR).port() + "/";
    }

    /** Starts each service whose recorded restart loop is not alive; returns the names it started. */
    List<String> start(Consumer<String> progress) throws IOException {
        List<String> started = new ArrayList<>();
        for (Service service : services) {
            if (supervisor.find(service.name()).isPresent()) {
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
            // Quarkus rolls the file over itself; the console (logs/<name>.out) then only sees a JVM that fails
            // before its logging starts.
            command.add("-Dquarkus.log.console.enable=false");
            command.add("-Dquarkus.log.file.enable=true");
            command.add("-Dquarkus.log.file.path=" + log(service));
            command.add("-Dquarkus.log.file.rotation.max-file-size=" + platform.logMaxFileSize());
            command.add("-Dquarkus.log.file.rotation.max-backup-index=" + platform.logBackups());
            command.add("-jar");
            command.add(jar.toString());
            Map<String, String> env = new HashMap<>();
            env.put("DJL_OFFLINE", "true");
            env.put("DJL_CACHE_DIR", System.getenv().getOrDefault("DJL_CACHE_DIR",
                    platform.home().resolve("djl").toString()));
            supervisor.start(service.name(), command, root, env);
            started.add(service.name());
        }
        return started;
    }

    /**
     * Waits until every service reports ready, each within the platform's start timeout, or fails naming the one
     * that did not and its log. A service that exits meanwhile is restarted by its loop; only a loop that is gone
     * fails at once.
     */
    void awaitReady() {
        for (Service service : services) {
            awaitReady(service);
        }
    }

    void awaitReady(Service service) {
        Duration timeout = platform.startTimeout();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!ready(service)) {
            if (supervisor.find(service.name()).isEmpty()) {
                throw new Labelscope.UserError(service.name() + " is not running (its restart loop is gone); see "
                        + log(service), 1);
            }
            if (System.nanoTime() > deadline) {
                throw new Labelscope.UserError(service.name() + " was not ready within " + timeout.toSeconds()
                        + " s (" + PlatformSettings.ENV_START_TIMEOUT + "); see " + log(service) + " and "
                        + supervisor.consoleLog(service.name()), 1);
            }
            sleep(500);
        }
    }

    /** Whether the service answers 200 on its readiness check now. */
    boolean ready(Service service) {
        try {
            HttpResponse<Void> response = HTTP.send(HttpRequest.newBuilder(URI.create(service.readyUrl()))
                    .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Labelscope.UserError("interrupted", 130);
        }
    }

    /** Stops the recorded services; returns the names it stopped. */
    List<String> stop() throws IOException {
        List<String> stopped = new ArrayList<>();
        List<Service> lastFirst = new ArrayList<>(services);
        java.util.Collections.reverse(lastFirst);
        for (Service service : lastFirst) {
            if (supervisor.stop(service.name(), Duration.ofSeconds(60))) {
                stopped.add(service.name());
            }
        }
        return stopped;
    }

    /**
     * Restarts one service (SIGTERM, SIGKILL after 60 s; its loop starts it again) and waits until it is ready.
     *
     * @return false when the service is not running under labelscope (nothing was signalled)
     */
    boolean restart(Service service) {
        Optional<Long> before = pid(service);
        if (!supervisor.restart(service.name(), Duration.ofSeconds(60))) {
            return false;
        }
        // The old process may still answer for a moment after its pid is gone; wait for a new one first.
        long deadline = System.nanoTime() + platform.startTimeout().toNanos();
        while (pid(service).equals(before) || pid(service).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new Labelscope.UserError(service.name() + " was not started again within "
                        + platform.startTimeout().toSeconds() + " s; see " + log(service), 1);
            }
            sleep(200);
        }
        awaitReady(service);
        return true;
    }

    /** The service's own pid while its loop runs it (empty between restarts or when not started). */
    Optional<Long> pid(Service service) {
        return supervisor.find(service.name()).flatMap(Supervisor.Running::service).map(ProcessHandle::pid);
    }

    Path log(Service service) {
        return supervisor.log(service.name());
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

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
