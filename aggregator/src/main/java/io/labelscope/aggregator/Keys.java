package io.labelscope.aggregator;

/** Keys of the metric stores and topics. */
public final class Keys {

    /** Separator that does not occur in task or model names (models often contain '/'). */
    public static final String SEPARATOR = "|";

    private Keys() {
    }

    /** Key of a task/model's metrics: all methods and cells of one dashboard panel live under it. */
    public static String taskModel(String task, String model) {
        return task + SEPARATOR + model;
    }
}
