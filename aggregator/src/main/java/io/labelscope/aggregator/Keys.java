package io.labelscope.aggregator;

import java.util.regex.Pattern;

/** Keys of the metric stores and topics. */
public final class Keys {

    /** Separator that does not occur in task or model names (models often contain '/'). */
    public static final String SEPARATOR = "|";

    /** Task versions are 12 hex characters (TaskFiles.version), so a model name ending in '@' and more is not one. */
    private static final Pattern VERSIONED = Pattern.compile("(.*)@([0-9a-f]{12})");

    private Keys() {
    }

    /** Key of a task/model's metrics: all methods and cells of one dashboard panel live under it. */
    public static String taskModel(String task, String model) {
        return task + SEPARATOR + model;
    }

    /**
     * A run's configuration as one string, where one is needed (the model part of a metric key, a REST or
     * dashboard selection): {@code MODEL} for records without a task version (written before versions existed,
     * a configuration of their own), else {@code MODEL@VERSION}. Two prompts of a task on the same model are two
     * configurations, so their metrics never merge.
     */
    public static String configuration(String model, String taskVersion) {
        return taskVersion == null ? model : model + "@" + taskVersion;
    }

    /** The model and task version (null: none) a configuration string names. */
    public record Configuration(String model, String taskVersion) {

        public static Configuration parse(String configuration) {
            var m = VERSIONED.matcher(configuration);
            return m.matches() ? new Configuration(m.group(1), m.group(2)) : new Configuration(configuration, null);
        }
    }
}
