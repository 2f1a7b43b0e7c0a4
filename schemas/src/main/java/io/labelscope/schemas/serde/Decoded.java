package io.labelscope.schemas.serde;

/**
 * The result of reading one record's value: the record, or the original bytes with the reason they could not be
 * read. Services route {@link Undecodable} values to the dead-letter topic; nothing is dropped or thrown.
 */
public sealed interface Decoded<T> {

    static <T> Decoded<T> of(T value) {
        return new Ok<>(value);
    }

    static <T> Decoded<T> undecodable(byte[] bytes, String reason) {
        return new Undecodable<>(bytes, reason);
    }

    record Ok<T>(T value) implements Decoded<T> {
    }

    /** @param bytes the value exactly as it was on the wire (null for a tombstone) */
    record Undecodable<T>(byte[] bytes, String reason) implements Decoded<T> {
    }
}
