package io.labelscope.schemas;

import java.util.regex.Pattern;

/**
 * What produced a run's numbers: the model and the task version (the {@code task_version} of the worker's
 * records; null for records written before versions existed, a configuration of its own). Two prompts of a task
 * on the same model are two configurations, so their metrics never merge. Where one string is needed (the model
 * part of a metric key, a REST or dashboard selection, {@code tail --model}) it is written {@code MODEL} without
 * a version and {@code MODEL@VERSION} with one.
 */
public record Configuration(String model, String taskVersion) {

    /** Task versions are 12 hex characters, so a model name that merely contains '@' is not split. */
    private static final Pattern VERSIONED = Pattern.compile("(.+)@([0-9a-f]{12})");

    /** {@code MODEL} or {@code MODEL@VERSION}. */
    public static String of(String model, String taskVersion) {
        return taskVersion == null ? model : model + "@" + taskVersion;
    }

    /** The configuration a string of {@link #of} names. */
    public static Configuration parse(String configuration) {
        var m = VERSIONED.matcher(configuration);
        return m.matches() ? new Configuration(m.group(1), m.group(2)) : new Configuration(configuration, null);
    }

    @Override
    public String toString() {
        return of(model, taskVersion);
    }
}
