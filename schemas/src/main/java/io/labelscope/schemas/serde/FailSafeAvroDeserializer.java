package io.labelscope.schemas.serde;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.Map;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;

/**
 * Reads Confluent-format Avro values and never throws: a value that is not Avro, names a schema id the registry
 * does not know, or does not match its schema comes back as {@link Decoded.Undecodable} with a reason that says
 * which of these it was. Without this, one bad record makes {@code poll()} throw at the same offset forever.
 */
public class FailSafeAvroDeserializer<T> implements Deserializer<Decoded<T>> {

    static final byte MAGIC_BYTE = 0;
    static final int HEADER_LENGTH = 5;

    private final AvroKafkaDeserializer<T> avro = new AvroKafkaDeserializer<>();

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
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
            return Decoded.undecodable(data, reasonFor(schemaId, e));
        }
    }

    private static String reasonFor(int schemaId, RuntimeException e) {
        String message = rootMessage(e);
        String type = e.getClass().getSimpleName() + " " + (e.getCause() == null ? "" : e.getCause().getClass().getSimpleName());
        if (type.contains("NotFound") || message.contains("No content with id") || message.contains("not found")) {
            return "unknown schema id " + schemaId + ": the schema registry has no schema with this id";
        }
        if (type.contains("RestClient") || type.contains("Connect") || message.contains("Connection refused")) {
            return "schema id " + schemaId + " could not be fetched from the schema registry: " + message;
        }
        return "value does not decode with schema id " + schemaId + ": " + message;
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
        avro.close();
    }
}
