package io.labelscope.aggregator.compare;

import io.labelscope.schemas.DocumentDistribution;

/**
 * What a paired comparison compares: a model, or a model with a version of the task's prompt. Written
 * {@code MODEL} (no version) or {@code MODEL@VERSION} where one string is needed (REST parameters, store keys,
 * the dashboard's choices).
 *
 * @param model   the distribution's model
 * @param version the task version, null for none
 */
public record Configuration(String model, String version) {

    static final char VERSION_SEPARATOR = '@';

    public Configuration {
        if (model == null || model.isEmpty()) {
            throw new IllegalArgumentException("a configuration needs a model");
        }
        if (version != null && version.isEmpty()) {
            version = null;
        }
    }

    /** The configuration that produced a distribution. */
    static Configuration of(DocumentDistribution d) {
        // Distributions carry no task version yet (issue #15 item 6 adds it): every configuration is a model.
        return new Configuration(d.getModel(), null);
    }

    /**
     * {@code MODEL} or {@code MODEL@VERSION}. A task version is 12 hex digits (the start of the SHA-256 of the
     * task's canonical JSON), so only such a suffix after the last {@code @} is read as one: a model name
     * (a checkpoint path) may contain {@code @} itself.
     */
    public static Configuration parse(String text) {
        int at = text.lastIndexOf(VERSION_SEPARATOR);
        if (at > 0 && text.substring(at + 1).matches("[0-9a-f]{12}")) {
            return new Configuration(text.substring(0, at), text.substring(at + 1));
        }
        return new Configuration(text, null);
    }

    @Override
    public String toString() {
        return version == null ? model : model + VERSION_SEPARATOR + version;
    }
}
