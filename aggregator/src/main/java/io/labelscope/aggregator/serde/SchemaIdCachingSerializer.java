package io.labelscope.aggregator.serde;

import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.labelscope.schemas.serde.SchemaRegistryUnavailableException;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Writes one Avro record type in the Confluent format (magic byte 0, 4-byte schema id, Avro binary), asking the
 * registry-aware serializer only for the first record of each topic.
 *
 * <p>Why: Apicurio's serializer renders the record's schema to JSON text on every call to look its id up in
 * its cache; with several metric records per commit that was a fifth of the stream thread's time (issue #6).
 * The type's schema is fixed, so its id on a topic is too: the header of the first record serialized by
 * Apicurio (which registers or looks up the schema) is reused, followed by the same Avro binary encoding.
 */
public final class SchemaIdCachingSerializer<T extends SpecificRecord> implements Serializer<T> {

    public static final Duration REGISTRY_RETRY_BUDGET = Duration.ofSeconds(3);
    private static final long FIRST_BACKOFF_MILLIS = 100;
    private static final long MAX_BACKOFF_MILLIS = 1000;

    /** Magic byte + 4-byte id, as {@code AvroSerdeConfig.registry} configures the wire format. */
    public static final int HEADER_BYTES = 5;

    private final AvroKafkaSerializer<T> registry = new AvroKafkaSerializer<>();
    private final Map<String, byte[]> headerByTopic = new ConcurrentHashMap<>();
    /** Stateless once built, so shared by stream threads (a benign race builds it twice at worst). */
    private volatile SpecificDatumWriter<T> writer;

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        registry.configure(configs, isKey);
    }

    @Override
    public byte[] serialize(String topic, T value) {
        if (value == null) {
            return null;
        }
        byte[] header = headerByTopic.get(topic);
        if (header == null) {
            byte[] first = serializeThroughRegistry(topic, value);
            if (first.length < HEADER_BYTES || first[0] != 0) {
                throw new SerializationException("expected the Confluent format (magic byte 0) on " + topic);
            }
            headerByTopic.put(topic, Arrays.copyOf(first, HEADER_BYTES));
            return first;
        }
        SpecificDatumWriter<T> w = writer;
        if (w == null) {
            w = new SpecificDatumWriter<>(value.getSchema());
            writer = w;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.write(header, 0, HEADER_BYTES);
        try {
            BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
            w.write(value, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new SerializationException("cannot write " + value.getSchema().getFullName(), e);
        }
        return out.toByteArray();
    }

    /** The registry-aware serializer's bytes, retried while the registry does not answer (see the class doc). */
    private byte[] serializeThroughRegistry(String topic, T value) {
        long start = System.nanoTime();
        long backoff = FIRST_BACKOFF_MILLIS;
        while (true) {
            try {
                return registry.serialize(topic, value);
            } catch (RuntimeException e) {
                if (!SchemaRegistryUnavailableException.isRegistryOutage(e)) {
                    throw e;
                }
                Duration waited = Duration.ofNanos(System.nanoTime() - start);
                if (waited.plusMillis(backoff).compareTo(REGISTRY_RETRY_BUDGET) > 0) {
                    throw unavailable(topic, waited, e);
                }
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw unavailable(topic, waited, e);
                }
                backoff = Math.min(2 * backoff, MAX_BACKOFF_MILLIS);
            }
        }
    }

    @Override
    public void close() {
        registry.close();
    }

    private static SchemaRegistryUnavailableException unavailable(String topic, Duration waited, RuntimeException e) {
        return new SchemaRegistryUnavailableException("the schema registry did not answer within " + waited.toMillis()
                + " ms for the schema of the first record written to " + topic + " since this instance started: "
                + e.getMessage(), e);
    }
}
