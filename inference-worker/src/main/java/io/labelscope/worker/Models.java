package io.labelscope.worker;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;

import org.jboss.logging.Logger;

import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.ModelDirs;
import io.labelscope.runtime.RuntimeConfig;

/**
 * The models a worker serves.
 *
 * <p>The default model, {@code labelscope.worker.model.path}, serves every task that names no model: either one
 * Hugging Face checkpoint directory (it has a config.json), used for every such task; or a directory of checkpoints,
 * one per task, named after the task (the demo layout: {@code models/demo/goemotions}, {@code models/demo/mfrc}),
 * each used for the task of its name. It is loaded at start and stays loaded.
 *
 * <p>A task that names its model ({@code "model"} in its definition) runs on that checkpoint, resolved by
 * {@link ModelDirs#resolve} against {@code labelscope.worker.models-dir}. Such models are loaded when a task first
 * needs them; at most {@code labelscope.worker.max-loaded-models} of them stay loaded, and loading one more first
 * unloads the least recently used (the default model does not count and is never unloaded). Only the worker's loop
 * thread calls {@link #forTask}, between batches, so no batch is running on a model when it is unloaded.
 */
public final class Models implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Models.class);

    /** A loaded model: the name written into records and run ids, and its context window. */
    public record Served(String name, LlmModel model, int contextTokens) {}

    private final Map<String, Served> byTask;
    private final Served single;
    private final RuntimeConfig runtime;
    private final OptionalInt maxContext;
    private final Path modelsDir;
    private final int maxLoadedNamed;
    private volatile Function<String, Optional<String>> modelOfTask = task -> Optional.empty();
    /** Named models by checkpoint path, least recently used first. */
    private final LinkedHashMap<Path, Served> named = new LinkedHashMap<>(8, 0.75f, true);
    /** Checkpoints that failed to load (path → why), not retried until the task's model changes or a restart. */
    private final Map<Path, String> failed = new LinkedHashMap<>();
    /** What {@link #describe} says, rebuilt on each change so that health checks never wait for a model load. */
    private volatile String description;

    private Models(Map<String, Served> byTask, Served single, RuntimeConfig runtime, OptionalInt maxContext,
                   Path modelsDir, int maxLoadedNamed) {
        this.byTask = byTask;
        this.single = single;
        this.runtime = runtime;
        this.maxContext = maxContext;
        this.modelsDir = modelsDir.toAbsolutePath().normalize();
        this.maxLoadedNamed = maxLoadedNamed;
        this.description = describeNow();
    }

    /**
     * The checkpoint directories under {@code path}: {@code path} itself when it is one, else its subdirectories that
     * are (keyed by directory name). Empty when there is none.
     */
    static Map<String, Path> checkpointDirs(Path path) {
        return ModelDirs.checkpoints(path);
    }

    /** The default model only (no models directory beyond the working directory, one named model at a time). */
    public static Models load(Path path, RuntimeConfig rc, Optional<String> name, OptionalInt maxContext)
            throws IOException {
        return load(path, rc, name, maxContext, Path.of("models"), 1);
    }

    /**
     * Loads the default model at {@code path}; named models are looked up under {@code modelsDir} and at most
     * {@code maxLoadedNamed} of them are kept loaded.
     */
    public static Models load(Path path, RuntimeConfig rc, Optional<String> name, OptionalInt maxContext,
                              Path modelsDir, int maxLoadedNamed) throws IOException {
        if (maxLoadedNamed < 1) {
            throw new IllegalArgumentException("labelscope.worker.max-loaded-models must be at least 1, got "
                    + maxLoadedNamed);
        }
        Path dir = path.toAbsolutePath().normalize();
        Map<String, Path> dirs = checkpointDirs(dir);
        if (dirs.isEmpty()) {
            throw new IOException("no model at " + dir + ": expected a checkpoint directory (config.json, "
                    + "*.safetensors, tokenizer.json) or a directory of them, one per task");
        }
        String base = name.filter(s -> !s.isBlank()).orElse(dir.getFileName().toString());
        Map<String, Served> byTask = new LinkedHashMap<>();
        List<Served> loaded = new ArrayList<>();
        try {
            for (Map.Entry<String, Path> e : dirs.entrySet()) {
                String served = e.getKey().isEmpty() ? base : base + "/" + e.getKey();
                Served s = loadOne(served, e.getValue(), rc, maxContext);
                loaded.add(s);
                if (!e.getKey().isEmpty()) {
                    byTask.put(e.getKey(), s);
                }
            }
        } catch (RuntimeException e) {
            loaded.forEach(s -> s.model().close());
            throw e;
        }
        return new Models(byTask, byTask.isEmpty() ? loaded.get(0) : null, rc, maxContext, modelsDir, maxLoadedNamed);
    }

    private static Served loadOne(String name, Path dir, RuntimeConfig rc, OptionalInt maxContext) {
        long t0 = System.nanoTime();
        LlmModel m = LlmModel.load(dir, rc);
        int ctx = maxContext.orElse(m.config().maxPositionEmbeddings());
        LOG.infof("model '%s' loaded from %s in %.1f s (%s, %s, context %d tokens)", name, dir,
                (System.nanoTime() - t0) / 1e9, rc.device(), rc.dtype(), ctx);
        return new Served(name, m, ctx);
    }

    /** Where tasks' {@code model} settings come from (the task registry); until set, every task uses the default. */
    public void modelOfTask(Function<String, Optional<String>> lookup) {
        this.modelOfTask = lookup;
    }

    /**
     * The model that serves a task: the checkpoint it names (loaded now if need be), else the default model's single
     * checkpoint or the one named after the task. Empty when there is none (the reason is logged and in
     * {@link #describe}).
     */
    public synchronized Optional<Served> forTask(String task) {
        Optional<String> wanted = modelOfTask.apply(task);
        if (wanted.isEmpty()) {
            return single != null ? Optional.of(single) : Optional.ofNullable(byTask.get(task));
        }
        String model = wanted.get();
        Optional<Path> dir = ModelDirs.resolve(model, modelsDir);
        if (dir.isEmpty()) {
            String why = ModelDirs.notFound(model, modelsDir);
            if (failed.put(modelsDir.resolve(model), why) == null) {
                LOG.warnf("task '%s': %s", task, why);
                description = describeNow();
            }
            return Optional.empty();
        }
        Served s = named.get(dir.get());
        if (s != null) {
            return Optional.of(s);
        }
        if (failed.containsKey(dir.get())) {
            return Optional.empty();
        }
        while (named.size() >= maxLoadedNamed) {
            Map.Entry<Path, Served> eldest = named.entrySet().iterator().next();
            named.remove(eldest.getKey());
            LOG.infof("unloading model '%s' (least recently used; labelscope.worker.max-loaded-models=%d)",
                    eldest.getValue().name(), maxLoadedNamed);
            eldest.getValue().model().close();
        }
        try {
            s = loadOne(model, dir.get(), runtime, maxContext);
        } catch (RuntimeException e) {
            failed.put(dir.get(), String.valueOf(e.getMessage()));
            LOG.errorf(e, "task '%s': model '%s' at %s could not be loaded", task, model, dir.get());
            description = describeNow();
            return Optional.empty();
        }
        named.put(dir.get(), s);
        description = describeNow();
        return Optional.of(s);
    }

    /** The default model's name(s). */
    public String defaultModel() {
        return single != null ? single.name() : String.join(", ", byTask.values().stream().map(Served::name).toList());
    }

    /** The tasks the default model serves by name, or empty when it serves every task that names no model. */
    public List<String> defaultModelTasks() {
        return single != null ? List.of() : List.copyOf(byTask.keySet());
    }

    public Path modelsDir() {
        return modelsDir;
    }

    public int maxLoadedNamed() {
        return maxLoadedNamed;
    }

    /** The named models loaded now, least recently used first. */
    public synchronized List<String> loadedNamed() {
        return named.values().stream().map(Served::name).toList();
    }

    /** What this worker serves, in one line (health data and error messages). */
    public String describe() {
        return description;
    }

    private String describeNow() {
        StringBuilder b = new StringBuilder("default model ").append(defaultModel());
        b.append(single != null ? " for every task that names no model" : " for the tasks of those names");
        b.append("; named models from ").append(modelsDir);
        b.append(" (loaded: ").append(named.isEmpty() ? "none" : String.join(", ",
                named.values().stream().map(Served::name).toList()));
        b.append("; at most ").append(maxLoadedNamed).append(")");
        if (!failed.isEmpty()) {
            b.append("; unusable: ").append(String.join("; ", failed.values()));
        }
        return b.toString();
    }

    @Override
    public synchronized void close() {
        if (single != null) {
            single.model().close();
        }
        byTask.values().forEach(s -> s.model().close());
        named.values().forEach(s -> s.model().close());
        named.clear();
    }
}
