package io.labelscope.runtime;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Where checkpoints are found, in one place for the worker (which loads them) and the command line (which checks a
 * task's model before registering it). A checkpoint is a directory with a {@code config.json} (and its
 * {@code *.safetensors} and {@code tokenizer.json}).
 *
 * <p>A task's {@code "model"} is resolved against the models directory: a name such as {@code my-model} or
 * {@code demo/mfrc} is {@code <models dir>/<model>}; an absolute path is itself. The one rule means the worker and
 * the command line, whatever their working directories, find the same checkpoint.
 */
public final class ModelDirs {
    private ModelDirs() {}

    /** Whether {@code dir} is one checkpoint. */
    public static boolean isCheckpoint(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json"));
    }

    /**
     * The checkpoints at {@code path}: {@code path} itself (keyed "") when it is one, else its subdirectories that are
     * (keyed by directory name). Empty when there is none.
     */
    public static Map<String, Path> checkpoints(Path path) {
        Map<String, Path> out = new LinkedHashMap<>();
        if (isCheckpoint(path)) {
            out.put("", path);
            return out;
        }
        if (Files.isDirectory(path)) {
            try (Stream<Path> s = Files.list(path)) {
                for (Path d : s.filter(ModelDirs::isCheckpoint).sorted().toList()) {
                    out.put(d.getFileName().toString(), d);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + path, e);
            }
        }
        return out;
    }

    /** The checkpoint a task's {@code model} names (see the class comment), or empty when there is none. */
    public static Optional<Path> resolve(String model, Path modelsDir) {
        try {
            Path dir = modelsDir.resolve(model).toAbsolutePath().normalize();
            return isCheckpoint(dir) ? Optional.of(dir) : Optional.empty();
        } catch (InvalidPathException e) {
            return Optional.empty();
        }
    }

    /** Why {@link #resolve} found nothing, for an error message. */
    public static String notFound(String model, Path modelsDir) {
        return "model '" + model + "': " + modelsDir.resolve(model).toAbsolutePath().normalize() + " is not a "
                + "checkpoint (a directory with config.json, *.safetensors and tokenizer.json; names are resolved "
                + "against the models directory " + modelsDir.toAbsolutePath().normalize() + ")";
    }
}
