package io.labelscope.aggregator.state;

/**
 * Where an input record came from, with its original bytes: enough to dead-letter it later (an annotation
 * can only be checked against the label set once the document's steps or generation have told us the set).
 */
public record SourceRef(String topic, int partition, long offset, String key, byte[] value) {
}
