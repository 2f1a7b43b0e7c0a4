package io.labelscope.schemas.serde;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Map;

import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent-format Avro values and never throws for a bad record: a value that is not Avro, names a schema id
 * the registry does not know, does not match its schema, is a record of another type than the one expected, has
 * bytes after its record, or has a string that is not valid UTF-8 comes back as {@link Decoded.Undecodable} with a
 * type ({@link Decoded#UNDECODABLE}, {@link Decoded#WRONG_RECORD_TYPE}, {@link Decoded#TRAILING_BYTES},
 * {@link Decoded#INVALID_UTF8}) and a reason that says what was found. Without this, one bad record makes
 * {@code poll()} throw at the same offset forever, or is read as something it is not.
 *
 * <p>The one exception: a schema registry that cannot be reached throws {@link SchemaRegistryUnavailableException},
 * because the record is probably fine and must be read again once the registry is back, not dead-lettered.
 *
 * <p>The expected record type is given per consumer: {@link #FailSafeAvroDeserializer(Class)}, or the
 * {@value #EXPECTED_RECORD_TYPE} setting (a schema's full name, e.g. {@code io.labelscope.schemas.Document}) for a
 * deserializer named by class in Kafka properties. Without either, a record of any schema is accepted (tools that
 * read every topic, like {@code labelscope tail}).
 */
public class FailSafeAvroDeserializer<T> implements Deserializer<Decoded<T>> {

    /** Setting: full name of the record schema this consumer reads; other records are {@code wrong_record_type}. */
    public static final String EXPECTED_RECORD_TYPE = "labelscope.serde.expected-record-type";

    static final byte MAGIC_BYTE = 0;
    static final int HEADER_LENGTH = 5;

    private final String expectedFromConstructor;
    /** Created by {@link #configure}: Apicurio's deserializer cannot be used, nor closed, before it is configured. */
    private StrictAvroKafkaDeserializer<T> avro;

    /** Accepts a record of any schema (unless {@value #EXPECTED_RECORD_TYPE} is configured). */
    public FailSafeAvroDeserializer() {
        this.expectedFromConstructor = null;
    }

    /** Accepts records of {@code expected}'s schema only. */
    public FailSafeAvroDeserializer(Class<? extends SpecificRecord> expected) {
        this.expectedFromConstructor = SpecificData.get().getSchema(expected).getFullName();
    }

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        String expected = expectedFromConstructor;
        Object configured = configs.get(EXPECTED_RECORD_TYPE);
        if (expected == null && configured != null && !configured.toString().isBlank()) {
            expected = configured.toString().strip();
        }
        if (avro != null) {
            avro.close();
        }
        avro = new StrictAvroKafkaDeserializer<>(expected);
        avro.configure(configs, isKey);
    }

    @Override
    public Decoded<T> deserialize(String topic, byte[] data) {
        return deserialize(topic, null, data);
    }

    @Override
    public Decoded<T> deserialize(String topic, Headers headers, byte[] data) {
        // Kafka's consumer hands null values (tombstones) over without calling a deserializer; other callers
        // (Kafka Streams' serdes, tests) may still pass one in.
        if (data == null) {
            return Decoded.undecodable(null, "record has no value (a tombstone); a " + topic + " record needs one");
        }
        if (data.length < HEADER_LENGTH || data[0] != MAGIC_BYTE) {
            return Decoded.undecodable(data, "value is not Confluent-format Avro: expected magic byte 0 and a 4-byte"
                    + " schema id, got " + data.length + " bytes starting " + preview(data));
        }
        int schemaId = ByteBuffer.wrap(data, 1, 4).getInt();
        try {
            // Headers are not passed on: our wire format keeps the id in the payload, and a producer's stray
            // Apicurio headers must not make the same bytes decode differently.
            T value = avro.deserialize(topic, data);
            if (value == null) {
                return Decoded.undecodable(data, "schema id " + schemaId + " decoded to nothing");
            }
            return Decoded.of(value);
        } catch (RuntimeException e) {
            RejectedValueException rejected = find(e, RejectedValueException.class);
            if (rejected != null) {
                return Decoded.undecodable(data, rejected.type(), "schema id " + schemaId + ": " + rejected.getMessage());
            }
            if (registryUnreachable(e)) {
                throw new SchemaRegistryUnavailableException("schema id " + schemaId + " of a " + topic + " record"
                        + " could not be fetched from the schema registry: " + rootMessage(e), e);
            }
            return Decoded.undecodable(data, reasonFor(schemaId, e));
        }
    }

    /** Not found is the record's fault (an id nobody registered); a failed connection or a server error is not. */
    private static boolean registryUnreachable(RuntimeException e) {
        String type = e.getClass().getSimpleName() + " " + (e.getCause() == null ? "" : e.getCause().getClass().getSimpleName());
        return !notFound(type, rootMessage(e)) && SchemaRegistryUnavailableException.isRegistryOutage(e);
    }

    private static boolean notFound(String type, String message) {
        return type.contains("NotFound") || message.contains("No content with id") || message.contains("not found");
    }

    private static String reasonFor(int schemaId, RuntimeException e) {
        String message = rootMessage(e);
        String type = e.getClass().getSimpleName() + " " + (e.getCause() == null ? "" : e.getCause().getClass().getSimpleName());
        if (notFound(type, message)) {
            return "unknown schema id " + schemaId + ": the schema registry has no schema with this id";
        }
        return "value does not decode with schema id " + schemaId + ": " + message;
    }

    private static <E extends Throwable> E find(Throwable e, Class<E> type) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }

    private static String preview(byte[] data) {
        int n = Math.min(data.length, 8);
        return "0x" + HexFormat.of().formatHex(data, 0, n) + (data.length > n ? "…" : "");
    }

    @Override
    public void close() {
        if (avro != null) {
            avro.close();
        }
    }
}
