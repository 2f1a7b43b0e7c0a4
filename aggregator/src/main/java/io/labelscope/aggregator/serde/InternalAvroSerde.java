package io.labelscope.aggregator.serde;

import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.Function;

/**
 * The serde of the aggregator's own state and repartition values: records generated from the schemas in
 * {@code src/main/avro}, written in Avro's single-object encoding (a 2-byte marker, the writer schema's
 * 64-bit fingerprint, then the binary record). No schema registry: only this service reads these bytes, and
 * the fingerprint is enough to pick the writer schema.
 *
 * <p>Evolving a state schema: change the {@code .avsc} by Avro's resolution rules (a new field needs a default,
 * a removed one is skipped) and pass the previous version's schema here as an older writer schema, so values in
 * the state stores and changelogs written before the change are read through Avro's schema resolution.
 */
public final class InternalAvroSerde<T extends SpecificRecord> implements Serde<T> {

    /** The two bytes every value of Avro's single-object encoding starts with (its specification's C3 01). */
    private static final byte[] SINGLE_OBJECT_MARKER = {(byte) 0xC3, (byte) 0x01};

    private final String type;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    /**
     * @param schema        the generated record's schema ({@code Foo.getClassSchema()}), written and read
     * @param olderVersions schemas this record was written with before, still readable
     */
    public InternalAvroSerde(Schema schema, List<Schema> olderVersions) {
        // The generated class's own model: it carries the logical-type conversions (timestamps as Instant).
        SpecificData model = SpecificData.getForSchema(schema);
        this.type = schema.getName();
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema);
        olderVersions.forEach(decoder::addSchema);
    }

    public InternalAvroSerde(Schema schema) {
        this(schema, List.of());
    }

    /**
     * A serde of an in-memory type kept apart from its Avro record (the metric sums, whose arithmetic lives in
     * their own classes): converted to the record to be written, and from it when read.
     */
    public static <V, R extends SpecificRecord> Serde<V> mapped(Schema schema, Function<V, R> toRecord,
                                                         Function<R, V> fromRecord) {
        return mapped(schema, List.of(), toRecord, fromRecord);
    }

    /** The same, also reading values written with {@code olderVersions} of the schema. */
    static <V, R extends SpecificRecord> Serde<V> mapped(Schema schema, List<Schema> olderVersions,
                                                         Function<V, R> toRecord, Function<R, V> fromRecord) {
        InternalAvroSerde<R> records = new InternalAvroSerde<>(schema, olderVersions);
        Serializer<R> serializer = records.serializer();
        Deserializer<R> deserializer = records.deserializer();
        return Serdes.serdeFrom(
                (topic, value) -> value == null ? null : serializer.serialize(topic, toRecord.apply(value)),
                (topic, bytes) -> bytes == null ? null : fromRecord.apply(deserializer.deserialize(topic, bytes)));
    }

    @Override
    public Serializer<T> serializer() {
        return (topic, value) -> {
            if (value == null) {
                return null;
            }
            try {
                ByteBuffer buffer = encoder.encode(value);
                byte[] bytes = new byte[buffer.remaining()];
                buffer.get(bytes);
                return bytes;
            } catch (IOException | RuntimeException e) {
                throw new SerializationException("cannot write " + type + " as Avro", e);
            }
        };
    }

    @Override
    public Deserializer<T> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            if (bytes.length < 2 || bytes[0] != SINGLE_OBJECT_MARKER[0] || bytes[1] != SINGLE_OBJECT_MARKER[1]) {
                // Not a value of this format at all: state of a version before issue #14 (its binary format
                // starts with the format number, 1 or 2), which no schema resolution can read.
                throw new UnreadableStateException("cannot read " + type + " from " + bytes.length + " bytes of "
                        + (topic == null ? "state" : topic) + ": not the Avro state format (first byte "
                        + (bytes.length == 0 ? "missing" : String.valueOf(bytes[0] & 0xff))
                        + "; written by a version before the Avro state?); " + UnreadableStateException.UPGRADE);
            }
            try {
                return decoder.decode(bytes);
            } catch (IOException | RuntimeException e) {
                // Also a value written with a schema this version does not know (MissingSchemaException).
                throw new SerializationException("cannot read " + type + " from " + bytes.length + " bytes of "
                        + (topic == null ? "state" : topic) + ": " + e.getMessage(), e);
            }
        };
    }
}
