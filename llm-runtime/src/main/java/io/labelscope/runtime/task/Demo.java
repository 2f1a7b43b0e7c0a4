package io.labelscope.runtime.task;

import java.util.List;

/** A labelled example that can be shown in the prompt; an empty label list renders as {@code none}. */
public record Demo(String text, List<String> labels) {
    public Demo {
        labels = List.copyOf(labels);
    }
}
