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
 * one inference worker with its default model ({@link WorkerModel}: the committed demo models unless
 * {@code up --model DIR} or {@code LABELSCOPE_WORKER_MODEL_PATH} say otherwise), and the aggregator (which serves the dashboard). Like the
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

    /**
     * The worker's default model and how to run it: {@code up --model/--device/--dtype}, else the worker's own
     * environment variables ({@code LABELSCOPE_WORKER_MODEL_PATH}, {@code LABELSCOPE_WORKER_MODEL_DEVICE},
     * {@code LABELSCOPE_WORKER_MODEL_DTYPE}), else the demo models on the CPU in f32. Empty = not chosen here.
     */
    record WorkerModel(Optional<Path> path, Optional<String> device, Optional<String> dtype) {
        static final List<String> DTYPES = List.of("f32", "f16", "bf16");

        WorkerModel {
            device.ifPresent(d -> {
                if (!d.matches("cpu|gpu(:\\d+)?")) {
                    throw new Labelscope.UserError("--device must be cpu, gpu or gpu:N, got '" + d + "'", 2);
                }
            });
            dtype.ifPresent(t -> {
                if (!DTYPES.contains(t)) {
                    throw new Labelscope.UserError("--dtype must be one of " + String.join(", ", DTYPES) + ", got '"
                            + t + "'", 2);
                }
            });
        }

        static WorkerModel defaults() {
            return new WorkerModel(Optional.empty(), Optional.empty(), Optional.empty());
        }
    }

    static final String ENV_MODEL_PATH = "LABELSCOPE_WORKER_MODEL_PATH";
    static final String ENV_MODEL_DEVICE = "LABELSCOPE_WORKER_MODEL_DEVICE";
    static final String ENV_MODEL_DTYPE = "LABELSCOPE_WORKER_MODEL_DTYPE";

    static final String WORKER = "inference-worker";
    static final String AGGREGATOR = "aggregator";
    static final String ENV_DASHBOARD_PORT = "LABELSCOPE_DASHBOARD_PORT";
    static final String ENV_WORKER_PORT = "LABELSCOPE_WORKER_PORT";

    private final Path root;
    private final PlatformSettings platform;
    private final Supervisor supervisor;
    private final List<Service> services;
    private final WorkerModel workerModel;
    private final Map<String, String> env;
    private final Path workerModelPath;

    LocalServices(Path root, PlatformSettings platform) {
        this(root, platform, WorkerModel.defaults(), System.getenv());
    }

    /**
     * @param model the worker's default model as {@code up} was asked for it
     * @param env the environment {@code ./labelscope} runs in (the services inherit it: every other worker setting,
     *     such as LABELSCOPE_WORKER_BATCH_SIZE, reaches the worker as it is)
     */
    LocalServices(Path root, PlatformSettings platform, WorkerModel model, Map<String, String> env) {
        this.root = root;
        this.platform = platform;
        this.supervisor = new Supervisor(platform.home());
        int dashboard = port(env, ENV_DASHBOARD_PORT, 8080);
        int worker = port(env, ENV_WORKER_PORT, 8083);
        Path home = platform.home();
        List<String> workerSettings = new ArrayList<>(List.of(
                "-Dquarkus.http.host=" + platform.host(),
                "-Dquarkus.http.port=" + worker,
                "-Dkafka.bootstrap.servers=" + platform.bootstrapServers(),
                "-Dlabelscope.registry.url=" + platform.registryUrl()));
        // Written out in full (a system property outranks the environment in Quarkus), so the command line in the
        // worker's log says what it serves.
        this.workerModel = model;
        this.env = env;
        this.workerModelPath = modelPath(root, model, env);
        workerSettings.add("-Dlabelscope.worker.model.path=" + workerModelPath);
        model.device().or(() -> nonBlank(env.get(ENV_MODEL_DEVICE)))
                .ifPresent(d -> workerSettings.add("-Dlabelscope.worker.model.device=" + d));
        model.dtype().or(() -> nonBlank(env.get(ENV_MODEL_DTYPE)))
                .ifPresent(t -> workerSettings.add("-Dlabelscope.worker.model.dtype=" + t));
        workerSettings.add("-Dlabelscope.worker.models-dir=" + ModelServing.modelsDir(root, env));
        workerSettings.add("-Dlabelscope.worker.task-dir=" + nonBlank(env.get("LABELSCOPE_WORKER_TASK_DIR"))
                .map(d -> Path.of(d).toAbsolutePath().normalize()).orElse(root.resolve("tasks")));
        this.services = List.of(
                new Service(WORKER, "inference-worker", worker, List.copyOf(workerSettings)),
                new Service(AGGREGATOR, "aggregator", dashboard, List.of(
                        "-Dquarkus.http.host=" + platform.host(),
                        "-Dquarkus.http.port=" + dashboard,
                        "-Dquarkus.kafka-streams.bootstrap-servers=" + platform.bootstrapServers(),
                        "-Dlabelscope.registry.url=" + platform.registryUrl(),
                        "-Dkafka-streams.state.dir=" + home.resolve("aggregator-state"))));
    }

    /**
     * The worker's default model directory: {@code --model}, else LABELSCOPE_WORKER_MODEL_PATH, else the demo models;
     * a relative path is relative to where {@code ./labelscope} runs.
     */
    static Path modelPath(Path root, WorkerModel model, Map<String, String> env) {
        return model.path().or(() -> nonBlank(env.get(ENV_MODEL_PATH)).map(Path::of))
                .map(p -> p.toAbsolutePath().normalize()).orElse(root.resolve("models/demo"));
    }

    /** Fails, naming the path and where it came from, when the worker's default model holds no checkpoint. */
    void requireModel() {
        if (io.labelscope.runtime.ModelDirs.checkpoints(workerModelPath).isEmpty()) {
            String from = workerModel.path().isPresent() ? "--model"
                    : nonBlank(env.get(ENV_MODEL_PATH)).isPresent() ? ENV_MODEL_PATH : "the demo model";
            throw new Labelscope.UserError(from + ": " + workerModelPath + " is not a model: expected a checkpoint "
                    + "directory (config.json, *.safetensors, tokenizer.json) or a directory of them named after "
                    + "their tasks", 2);
        }
    }

    private static Optional<String> nonBlank(String s) {
        return s == null || s.isBlank() ? Optional.empty() : Optional.of(s);
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
                if (service.name().equals(WORKER) && !workerModel.equals(WorkerModel.defaults())) {
                    progress.accept(WORKER + " is running already and keeps its model: --model, --device and "
                            + "--dtype take effect after ./labelscope down");
                }
                continue;
            }
            if (service.name().equals(WORKER)) {
                requireModel();
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

    private static int port(Map<String, String> env, String variable, int fallback) {
        try {
            return PlatformSettings.port(env, variable, fallback);
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
