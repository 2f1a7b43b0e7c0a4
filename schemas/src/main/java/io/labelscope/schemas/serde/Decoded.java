package io.labelscope.schemas.serde;

/**
 * The result of reading one record's value: the record, or the original bytes with the reason they could not be
 * read. Services route {@link Undecodable} values to the dead-letter topic with {@link Undecodable#type()} as the
 * dead letter's {@code error_type}; nothing is dropped. (A schema registry that cannot be reached is not a property
 * of the record: {@link FailSafeAvroDeserializer} throws {@link SchemaRegistryUnavailableException} for it.)
 */
public sealed interface Decoded<T> {

    /** Not Confluent-format Avro, an unknown schema id, bytes that do not match their schema, or a tombstone. */
    String UNDECODABLE = "undecodable";
    /** A valid Avro record of another schema than the one the consumer reads (e.g. an Annotation on documents). */
    String WRONG_RECORD_TYPE = "wrong_record_type";
    /** A valid Avro record followed by bytes that belong to no field. */
    String TRAILING_BYTES = "trailing_bytes";
    /** A string field whose bytes are not valid UTF-8 (Avro's own decoder would replace them silently). */
    String INVALID_UTF8 = "invalid_utf8";

    static <T> Decoded<T> of(T value) {
        return new Ok<>(value);
    }

    static <T> Decoded<T> undecodable(byte[] bytes, String reason) {
        return new Undecodable<>(bytes, UNDECODABLE, reason);
    }

    static <T> Decoded<T> undecodable(byte[] bytes, String type, String reason) {
        return new Undecodable<>(bytes, type, reason);
    }

    record Ok<T>(T value) implements Decoded<T> {
    }

    /**
     * @param bytes  the value exactly as it was on the wire (null for a tombstone)
     * @param type   a machine-readable category, one of the constants of {@link Decoded}
     * @param reason what is wrong, for a person
     */
    record Undecodable<T>(byte[] bytes, String type, String reason) implements Decoded<T> {
    }
}
