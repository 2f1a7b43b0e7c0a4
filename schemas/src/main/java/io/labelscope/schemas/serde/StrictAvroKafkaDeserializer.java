package io.labelscope.schemas.serde;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.header.Headers;

import io.apicurio.registry.resolver.ParsedSchema;
import io.apicurio.registry.serde.avro.AvroDatumProvider;
import io.apicurio.registry.serde.avro.AvroEncoding;
import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerdeConfig;

/**
 * Apicurio's Avro deserializer (which finds the writer schema by the id in the payload, through the registry), with
 * the checks it leaves out. After the schema is known and before anything is decoded, the schema must be the one
 * this consumer reads ({@link Decoded#WRONG_RECORD_TYPE}); strings must be valid UTF-8
 * ({@link Decoded#INVALID_UTF8}, see {@link StrictUtf8Decoder}); the record must end where the value ends
 * ({@link Decoded#TRAILING_BYTES}: Avro stops reading after the last field and would ignore the rest). Each failure
 * is a {@link RejectedValueException}, which {@link FailSafeAvroDeserializer} turns into an undecodable value.
 *
 * <p>Datum readers come from the configured {@code apicurio.registry.avro-datum-provider}, as in Apicurio, and are
 * kept per writer schema (they hold no per-record state), whatever that provider does.
 */
final class StrictAvroKafkaDeserializer<T> extends AvroKafkaDeserializer<T> {

    /** Full name of the one record schema accepted, or null for any. */
    private final String expectedSchema;
    private final Map<Schema, DatumReader<T>> readers = new ConcurrentHashMap<>();
    private AvroDatumProvider<T> datumProvider;
    private boolean binary = true;

    StrictAvroKafkaDeserializer(String expectedSchema) {
        this.expectedSchema = expectedSchema;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void configure(Map<String, ?> configs, boolean isKey) {
        super.configure(configs, isKey);
        AvroKafkaSerdeConfig config = new AvroKafkaSerdeConfig(configs);
        binary = config.getAvroEncoding() != AvroEncoding.JSON;
        try {
            datumProvider = (AvroDatumProvider<T>) config.getAvroDatumProvider().getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("cannot create the Avro datum provider "
                    + config.getAvroDatumProvider().getName() + ": " + e, e);
        }
        datumProvider.configure(config);
    }

    @Override
    protected T readData(Headers headers, ParsedSchema<Schema> schema, ByteBuffer buffer, int start, int length) {
        Schema writer = schema.getParsedSchema();
        if (expectedSchema != null && !expectedSchema.equals(writer.getFullName())) {
            throw new RejectedValueException(Decoded.WRONG_RECORD_TYPE, "the value is a " + writer.getFullName()
                    + " record; this consumer reads " + expectedSchema + " records");
        }
        if (!binary) {
            // Avro's JSON encoding is not labelscope's wire format; read it exactly as Apicurio does.
            return super.readData(headers, schema, buffer, start, length);
        }
        DatumReader<T> reader = readers.computeIfAbsent(writer, datumProvider::createDatumReader);
        BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(buffer.array(), start, length, null);
        try {
            T value = reader.read(null, new StrictUtf8Decoder(decoder));
            if (!decoder.isEnd()) {
                int extra = decoder.inputStream().available();
                throw new RejectedValueException(Decoded.TRAILING_BYTES, extra + " byte(s) follow a complete "
                        + writer.getFullName() + " record (" + (length - extra) + " bytes); a value holds one record");
            }
            return value;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
