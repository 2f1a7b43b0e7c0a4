package io.labelscope.platform;

/**
 * A topic the platform creates, and the schema registered for its values.
 *
 * @param valueSubject registry subject of the values, or null to register none
 * @param valueSchema  Avro schema JSON for {@code valueSubject}
 */
public record TopicDefinition(String name, boolean compacted, String valueSubject, String valueSchema) {
}
