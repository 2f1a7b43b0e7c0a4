package io.labelscope.runtime.task;

import java.util.Locale;

/**
 * What the worker runs for each document of a task (SPEC §3): {@code generate} decodes the answer list and records
 * its label steps; {@code unary} and {@code binary} are the test-time breakdowns, scored with one forward pass per
 * document over a batch of probe prompts that share the document prefix.
 */
public enum TaskMethod {
    GENERATE, UNARY, BINARY;

    /** The name in task JSON and in the events' {@code methods} field. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TaskMethod fromWireName(String s) {
        for (TaskMethod m : values()) {
            if (m.wireName().equals(s.strip().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + s + "' (known: generate, unary, binary)");
    }
}
