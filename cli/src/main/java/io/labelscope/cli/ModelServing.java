package io.labelscope.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.labelscope.platform.PlatformSettings;
import io.labelscope.runtime.ModelDirs;
import io.labelscope.runtime.task.TaskDefinition;

/**
 * Which model would serve a task, checked when it is registered so that a task nothing can run on is reported at
 * once rather than as dead letters later. The running local worker says what it serves on its readiness endpoint
 * (default model, the tasks it serves by name, the models directory); without one, a task's named model is looked up
 * under the models directory that {@code up} would give the worker ({@link #ENV_MODELS_DIR}, default
 * {@code <checkout>/models}), by the worker's own rule ({@link ModelDirs#resolve}).
 */
final class ModelServing {
    /** The worker's models directory; the same variable the worker reads for labelscope.worker.models-dir. */
    static final String ENV_MODELS_DIR = "LABELSCOPE_WORKER_MODELS_DIR";

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a running worker serves (its readiness data). */
    record WorkerInfo(String url, String defaultModel, List<String> defaultModelTasks, Path modelsDir) {}

    private ModelServing() {}

    /** The models directory {@code up} gives the worker. */
    static Path modelsDir(Path root, Map<String, String> env) {
        String dir = env.get(ENV_MODELS_DIR);
        return dir != null && !dir.isBlank() ? Path.of(dir).toAbsolutePath().normalize() : root.resolve("models");
    }

    static String workerUrl(Map<String, String> env) {
        int port = PlatformSettings.port(env, LocalServices.ENV_WORKER_PORT, 8083);
        return "http://127.0.0.1:" + port + "/q/health/ready";
    }

    /** The local worker's readiness data, or empty when no worker answers there. */
    static Optional<WorkerInfo> worker(String url) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            for (JsonNode check : JSON.readTree(r.body()).path("checks")) {
                JsonNode data = check.path("data");
                if (data.has("models_dir")) {
                    String tasks = data.path("default_model_tasks").asText("");
                    return Optional.of(new WorkerInfo(url, data.path("default_model").asText(),
                            tasks.isBlank() ? List.of() : Arrays.asList(tasks.split(",")),
                            Path.of(data.path("models_dir").asText())));
                }
            }
            return Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Warnings for a task about to be registered: empty when the running worker (or the models directory) serves it. */
    static List<String> warnings(TaskDefinition task, String workerUrl, Optional<WorkerInfo> worker,
                                 Path fallbackModelsDir) {
        List<String> out = new ArrayList<>();
        Path modelsDir = worker.map(WorkerInfo::modelsDir).orElse(fallbackModelsDir);
        if (task.model() != null) {
            if (ModelDirs.resolve(task.model(), modelsDir).isEmpty()) {
                out.add("task '" + task.name() + "' cannot be served: " + ModelDirs.notFound(task.model(), modelsDir));
            }
        } else if (worker.isPresent() && !worker.get().defaultModelTasks().isEmpty()
                && !worker.get().defaultModelTasks().contains(task.name())) {
            WorkerInfo w = worker.get();
            out.add("task '" + task.name() + "' names no model, and the running worker's default model ("
                    + w.defaultModel() + ") serves only the tasks " + String.join(", ", w.defaultModelTasks())
                    + ": add \"model\": \"<name under " + w.modelsDir() + ">\" to the task, or restart with "
                    + "./labelscope down && ./labelscope up --model DIR");
        }
        if (worker.isEmpty()) {
            out.add("no inference worker answers at " + workerUrl + "; documents of task '" + task.name()
                    + "' wait until one runs (./labelscope up)");
        }
        return out;
    }
}
