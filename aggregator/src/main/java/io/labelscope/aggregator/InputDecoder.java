package io.labelscope.aggregator;

import io.labelscope.aggregator.avro.SourceRecord;
import io.labelscope.math.Labels;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.PairLogits;
import io.labelscope.schemas.UnaryLogits;
import io.labelscope.schemas.UnaryProbes;
import io.labelscope.schemas.serde.Decoded;
import io.labelscope.schemas.serde.DeadLetters;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decodes one input topic's raw values and applies the checks that need no state. Values arrive as bytes (not
 * through an Avro serde) so that a record which does not decode, or decodes to nonsense, is forwarded as a
 * {@link DocumentEvent.Rejected} with its original bytes and a reason: one bad record never stalls a partition.
 */
final class InputDecoder<T extends SpecificRecord> implements FixedKeyProcessor<String, byte[], DocumentEvent> {

    static final String REJECTED_BY = "aggregator";

    private final Class<T> type;
    private final Map<String, ?> serdeConfig;
    private FailSafeAvroDeserializer<T> avro;
    private FixedKeyProcessorContext<String, DocumentEvent> context;

    InputDecoder(Class<T> type, Map<String, ?> serdeConfig) {
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
            event = reject(source, bad.type(), bad.reason());
        } else {
            // The deserializer was built for `type`: a record of another schema came back as wrong_record_type.
            event = check(((Decoded.Ok<T>) decoded).value(), source);
        }
        context.forward(record.withValue(event));
    }

    private DocumentEvent check(T value, SourceRecord source) {
        if (value instanceof LabelStep s) {
            return checkStep(s, source);
        }
        if (value instanceof Generation g) {
            return checkGeneration(g, source);
        }
        if (value instanceof UnaryProbes u) {
            return checkUnary(u, source);
        }
        if (value instanceof BinaryProbes b) {
            return checkBinary(b, source);
        }
        Annotation a = (Annotation) value;
        // No key check: the topology re-keys annotations by this document id (users' clients may key or
        // partition them otherwise, see TopologyProducer#annotationsByDocument), so the id must name one.
        if (a.getDocumentId() == null || a.getDocumentId().isBlank()) {
            return reject(source, "invalid", "annotation without a document id");
        }
        if (a.getAnnotatorId() == null || a.getAnnotatorId().isBlank()) {
            return reject(source, "invalid", "annotation without an annotator id");
        }
        return new DocumentEvent.AnnotationArrived(a, source);
    }

    private DocumentEvent checkStep(LabelStep s, SourceRecord source) {
        if (!s.getDocumentId().equals(source.getKey())) {
            return keyMismatch(source, s.getDocumentId());
        }
        String labelProblem = labelSetProblem(s.getLabels());
        if (labelProblem != null) {
            return reject(source, "invalid_label_set", labelProblem);
        }
        if (s.getStepsTotal() < 1 || s.getStep() < 0 || s.getStep() >= s.getStepsTotal()) {
            return reject(source, "invalid_step", "step " + s.getStep() + " of " + s.getStepsTotal()
                    + " is outside 0..steps_total-1");
        }
        List<String> labels = Labels.normalizeLabelSet(s.getLabels());
        Set<String> expected = new HashSet<>(labels);
        expected.add(Labels.NONE);
        Set<String> seen = new HashSet<>();
        for (Map.Entry<String, Double> e : s.getLogits().entrySet()) {
            String name = Labels.normalize(e.getKey());
            if (!expected.contains(name)) {
                return reject(source, "unknown_label", "step " + s.getStep() + " has a logit for '" + e.getKey()
                        + "', which is not a label of task " + s.getTask() + " " + labels + " nor none");
            }
            if (e.getValue() == null || !Double.isFinite(e.getValue())) {
                return reject(source, "invalid_logit", "step " + s.getStep() + ": logit of '" + e.getKey()
                        + "' is " + e.getValue());
            }
            seen.add(name);
        }
        expected.removeAll(seen);
        if (!expected.isEmpty()) {
            return reject(source, "missing_logit", "step " + s.getStep() + " has no logit for " + expected
                    + " (every label and none are needed)");
        }
        return new DocumentEvent.StepArrived(s, source);
    }

    private DocumentEvent checkGeneration(Generation g, SourceRecord source) {
        if (!g.getDocumentId().equals(source.getKey())) {
            return keyMismatch(source, g.getDocumentId());
        }
        String labelProblem = labelSetProblem(g.getLabels());
        if (labelProblem != null) {
            return reject(source, "invalid_label_set", labelProblem);
        }
        if (g.getStepsTotal() < 0) {
            return reject(source, "invalid_step", "steps_total is negative: " + g.getStepsTotal());
        }
        String methodsProblem = methodsProblem(g.getMethods(), DocumentStates.GENERATE);
        if (methodsProblem != null) {
            return reject(source, "invalid_methods", methodsProblem);
        }
        return new DocumentEvent.GenerationArrived(g, source);
    }

    /** Unary probes: one (reasonable, unreasonable) pair of finite logits for every label and none, nothing else. */
    private DocumentEvent checkUnary(UnaryProbes u, SourceRecord source) {
        if (!u.getDocumentId().equals(source.getKey())) {
            return keyMismatch(source, u.getDocumentId());
        }
        String labelProblem = labelSetProblem(u.getLabels());
        if (labelProblem != null) {
            return reject(source, "invalid_label_set", labelProblem);
        }
        String methodsProblem = methodsProblem(u.getMethods(), DocumentStates.UNARY);
        if (methodsProblem != null) {
            return reject(source, "invalid_methods", methodsProblem);
        }
        List<String> labels = Labels.normalizeLabelSet(u.getLabels());
        Set<String> expected = new HashSet<>(labels);
        expected.add(Labels.NONE);
        Set<String> seen = new HashSet<>();
        for (Map.Entry<String, UnaryLogits> e : u.getProbes().entrySet()) {
            String name = Labels.normalize(e.getKey());
            if (!expected.contains(name)) {
                return reject(source, "unknown_label", "unary probe for '" + e.getKey()
                        + "', which is not a label of task " + u.getTask() + " " + labels + " nor none");
            }
            if (!seen.add(name)) {
                return reject(source, "duplicate_probe", "two unary probes for '" + name + "'");
            }
            UnaryLogits z = e.getValue();
            if (!Double.isFinite(z.getReasonable()) || !Double.isFinite(z.getUnreasonable())) {
                return reject(source, "invalid_logit", "unary probe of '" + e.getKey() + "' has logits "
                        + z.getReasonable() + ", " + z.getUnreasonable());
            }
        }
        expected.removeAll(seen);
        if (!expected.isEmpty()) {
            return reject(source, "missing_probe", "no unary probe for " + expected
                    + " (every label and none are needed)");
        }
        return new DocumentEvent.UnaryArrived(u, source);
    }

    /** Binary probes: every unordered pair of labels ∪ {none} exactly once, with finite logits. */
    private DocumentEvent checkBinary(BinaryProbes b, SourceRecord source) {
        if (!b.getDocumentId().equals(source.getKey())) {
            return keyMismatch(source, b.getDocumentId());
        }
        String labelProblem = labelSetProblem(b.getLabels());
        if (labelProblem != null) {
            return reject(source, "invalid_label_set", labelProblem);
        }
        String methodsProblem = methodsProblem(b.getMethods(), DocumentStates.BINARY);
        if (methodsProblem != null) {
            return reject(source, "invalid_methods", methodsProblem);
        }
        List<String> items = new ArrayList<>(Labels.normalizeLabelSet(b.getLabels()));
        items.add(Labels.NONE);
        Set<String> seen = new HashSet<>();
        for (PairLogits p : b.getPairs()) {
            String a = Labels.normalize(p.getA());
            String c = Labels.normalize(p.getB());
            for (String item : List.of(a, c)) {
                if (!items.contains(item)) {
                    return reject(source, "unknown_label", "binary pair (" + p.getA() + ", " + p.getB() + ") names '"
                            + item + "', which is not a label of task " + b.getTask() + " " + items.subList(0,
                            items.size() - 1) + " nor none");
                }
            }
            if (a.equals(c)) {
                return reject(source, "invalid_pair", "binary pair compares '" + a + "' with itself");
            }
            if (!seen.add(pairKey(a, c))) {
                return reject(source, "duplicate_pair", "binary pair {" + a + ", " + c + "} occurs twice");
            }
            if (!Double.isFinite(p.getLogitA()) || !Double.isFinite(p.getLogitB())) {
                return reject(source, "invalid_logit", "binary pair (" + a + ", " + c + ") has logits "
                        + p.getLogitA() + ", " + p.getLogitB());
            }
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            for (int j = i + 1; j < items.size(); j++) {
                if (!seen.contains(pairKey(items.get(i), items.get(j)))) {
                    missing.add("{" + items.get(i) + ", " + items.get(j) + "}");
                }
            }
        }
        if (!missing.isEmpty()) {
            return reject(source, "missing_pair", "no binary probe for " + missing
                    + " (every unordered pair of labels and none is needed)");
        }
        return new DocumentEvent.BinaryArrived(b, source);
    }

    private static String pairKey(String a, String b) {
        return a.compareTo(b) < 0 ? a + "\u0000" + b : b + "\u0000" + a;
    }

    /**
     * The run's method set: known names only, and the record's own method among them (a generation of a run
     * that does not generate would leave the aggregator waiting for the wrong records).
     */
    private static String methodsProblem(List<String> methods, String own) {
        if (methods == null || methods.isEmpty()) {
            return "record lists no methods (field 'methods' is empty)";
        }
        for (String m : methods) {
            if (!DocumentStates.METHODS.contains(m)) {
                return "unknown method '" + m + "' (known: " + DocumentStates.METHODS + ")";
            }
        }
        if (!methods.contains(own)) {
            return "a " + own + " record of a run whose methods " + methods + " do not include " + own;
        }
        return null;
    }

    /** The label set travels with steps and generations; without it nothing can be scored. */
    private static String labelSetProblem(List<String> labels) {
        if (labels == null || labels.isEmpty()) {
            return "record carries no label set (field 'labels' is empty)";
        }
        try {
            Labels.normalizeLabelSet(labels);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    private static DocumentEvent keyMismatch(SourceRecord source, String documentId) {
        return reject(source, "key_mismatch", "record key '" + source.getKey() + "' is not its document_id '"
                + documentId + "': it would land on the wrong partition");
    }

    static DocumentEvent.Rejected reject(SourceRecord source, String errorType, String reason) {
        return new DocumentEvent.Rejected(DeadLetters.of(source.getTopic(), source.getPartition(),
                source.getOffset(), source.getKey() == null ? null : source.getKey().getBytes(StandardCharsets.UTF_8),
                bytes(source.getValue()), errorType, reason, REJECTED_BY));
    }

    private static byte[] bytes(ByteBuffer value) {
        if (value == null) {
            return null;
        }
        ByteBuffer buffer = value.duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
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
