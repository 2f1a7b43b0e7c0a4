package io.labelscope.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;

/**
 * The models a worker serves. {@code labelscope.worker.model.path} is either one Hugging Face checkpoint directory
 * (it has a config.json), used for every task; or a directory of checkpoints, one per task, named after the task
 * (the demo layout: {@code models/demo/goemotions}, {@code models/demo/mfrc}), each used for the task of its name.
 */
public final class Models implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Models.class);

    /** A loaded model: the name written into records and run ids, and its context window. */
    public record Served(String name, LlmModel model, int contextTokens) {}

    private final Map<String, Served> byTask;
    private final Served single;

    private Models(Map<String, Served> byTask, Served single) {
        this.byTask = byTask;
        this.single = single;
    }

    /**
     * The checkpoint directories under {@code path}: {@code path} itself when it is one, else its subdirectories that
     * are (keyed by directory name). Empty when there is none.
     */
    static Map<String, Path> checkpointDirs(Path path) throws IOException {
        Map<String, Path> out = new LinkedHashMap<>();
        if (Files.isRegularFile(path.resolve("config.json"))) {
            out.put("", path);
            return out;
        }
        if (Files.isDirectory(path)) {
            try (Stream<Path> s = Files.list(path)) {
                for (Path d : s.filter(p -> Files.isRegularFile(p.resolve("config.json"))).sorted().toList()) {
                    out.put(d.getFileName().toString(), d);
                }
            }
        }
        return out;
    }

    public static Models load(Path path, RuntimeConfig rc, Optional<String> name, OptionalInt maxContext)
            throws IOException {
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
                long t0 = System.nanoTime();
                LlmModel m = LlmModel.load(e.getValue(), rc);
                String served = e.getKey().isEmpty() ? base : base + "/" + e.getKey();
                int ctx = maxContext.orElse(m.config().maxPositionEmbeddings());
                Served s = new Served(served, m, ctx);
                loaded.add(s);
                if (!e.getKey().isEmpty()) {
                    byTask.put(e.getKey(), s);
                }
                LOG.infof("model '%s' loaded from %s in %.1f s (%s, %s, context %d tokens)", served, e.getValue(),
                        (System.nanoTime() - t0) / 1e9, rc.device(), rc.dtype(), ctx);
            }
        } catch (RuntimeException e) {
            loaded.forEach(s -> s.model().close());
            throw e;
        }
        return new Models(byTask, byTask.isEmpty() ? loaded.get(0) : null);
    }

    /** The model that serves a task: the single model, or the one named after the task. */
    public Optional<Served> forTask(String task) {
        return single != null ? Optional.of(single) : Optional.ofNullable(byTask.get(task));
    }

    public String describe() {
        return single != null ? single.name() : String.join(", ", byTask.values().stream().map(Served::name).toList());
    }

    @Override
    public void close() {
        if (single != null) {
            single.model().close();
        }
        byTask.values().forEach(s -> s.model().close());
    }
}
