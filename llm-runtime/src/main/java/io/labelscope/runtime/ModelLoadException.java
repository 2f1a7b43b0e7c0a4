package io.labelscope.runtime;

/** A checkpoint could not be loaded; the message names the file, tensor or key at fault. */
public class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
