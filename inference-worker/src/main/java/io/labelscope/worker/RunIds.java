package io.labelscope.worker;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;

/**
 * Run ids are a function of (document id, model name, prompt configuration) only: the same document decoded again
 * by the same model with the same task definition gets the same run id, so downstream it replaces, never doubles.
 * The prompt configuration is the task's canonical JSON (label set, templates, demos pool, k, seed, format,
 * variants, compat, max new tokens), so changing any of these gives new runs.
 */
public final class RunIds {
    private RunIds() {}

    public static String of(String documentId, String model, TaskDefinition task) {
        return of(documentId, model, TaskFiles.toJson(task));
    }

    static String of(String documentId, String model, String promptConfiguration) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String part : new String[] {documentId, model, promptConfiguration}) {
                byte[] b = part.getBytes(StandardCharsets.UTF_8);
                // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
                sha.update(new byte[] {(byte) (b.length >>> 24), (byte) (b.length >>> 16), (byte) (b.length >>> 8),
                        (byte) b.length});
                sha.update(b);
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
