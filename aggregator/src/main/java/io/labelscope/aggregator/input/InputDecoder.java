package io.labelscope.aggregator.input;

import io.labelscope.aggregator.input.Rejections.Rejection;
import io.labelscope.aggregator.avro.SourceRecord;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.UnaryProbes;
import io.labelscope.schemas.serde.Decoded;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Decodes one input topic's raw values and applies the checks that need no state ({@link InputChecks}). Values arrive as bytes (not
 * through an Avro serde) so that a record which does not decode, or decodes to nonsense, is forwarded as a
 * {@link DocumentEvent.Rejected} with its original bytes and a reason: one bad record never stalls a partition.
 */
public final class InputDecoder<T extends SpecificRecord> implements FixedKeyProcessor<String, byte[], DocumentEvent> {

    private final Class<T> type;
    private final Map<String, ?> serdeConfig;
    private FailSafeAvroDeserializer<T> avro;
    private FixedKeyProcessorContext<String, DocumentEvent> context;

    public InputDecoder(Class<T> type, Map<String, ?> serdeConfig) {
        this.type = type;
        this.serdeConfig = serdeConfig;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, DocumentEvent> context) {
        this.context = context;
        this.avro = new FailSafeAvroDeserializer<>(type);
        avro.configure(serdeConfig, false);
    }

    @Override
    public void process(FixedKeyRecord<String, byte[]> record) {
        SourceRecord source = source(record);
        Decoded<T> decoded = avro.deserialize(source.getTopic(), record.value());
        DocumentEvent event;
        if (decoded instanceof Decoded.Undecodable<T> bad) {
            event = new DocumentEvent.Rejected(Rejections.undecodable(source, bad.type(), bad.reason()));
        } else {
            // The deserializer was built for `type`: a record of another schema came back as wrong_record_type.
            event = checked(((Decoded.Ok<T>) decoded).value(), source);
        }
        context.forward(record.withValue(event));
    }

    /** The record as its event, or its rejection by {@link InputChecks}. */
    private static DocumentEvent checked(SpecificRecord value, SourceRecord source) {
        String key = source.getKey();
        Rejection rejection;
        DocumentEvent event;
        if (value instanceof LabelStep s) {
            rejection = InputChecks.step(key, s);
            event = new DocumentEvent.StepArrived(s, source);
        } else if (value instanceof Generation g) {
            rejection = InputChecks.generation(key, g);
            event = new DocumentEvent.GenerationArrived(g, source);
        } else if (value instanceof UnaryProbes u) {
            rejection = InputChecks.unary(key, u);
            event = new DocumentEvent.UnaryArrived(u, source);
        } else if (value instanceof BinaryProbes b) {
            rejection = InputChecks.binary(key, b);
            event = new DocumentEvent.BinaryArrived(b, source);
        } else {
            Annotation a = (Annotation) value;
            rejection = InputChecks.annotation(a);
            event = new DocumentEvent.AnnotationArrived(a, source);
        }
        return rejection == null ? event : new DocumentEvent.Rejected(Rejections.of(source, rejection));
    }

    private SourceRecord source(FixedKeyRecord<String, byte[]> record) {
        RecordMetadata meta = context.recordMetadata().orElse(null);
        return new SourceRecord(meta == null ? "?" : meta.topic(), meta == null ? -1 : meta.partition(),
                meta == null ? -1L : meta.offset(), record.key(),
                record.value() == null ? null : ByteBuffer.wrap(record.value()));
    }

    @Override
    public void close() {
        if (avro != null) {
            avro.close();
        }
    }
}
