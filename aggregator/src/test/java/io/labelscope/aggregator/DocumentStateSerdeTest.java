package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.metrics.SpikinessTally;
import io.labelscope.aggregator.state.AnnotationEntry;
import io.labelscope.aggregator.state.BinaryEntry;
import io.labelscope.aggregator.state.DistributionView;
import io.labelscope.aggregator.state.DocumentState;
import io.labelscope.aggregator.state.Emitted;
import io.labelscope.aggregator.state.GenerationEntry;
import io.labelscope.aggregator.state.MethodView;
import io.labelscope.aggregator.state.RunState;
import io.labelscope.aggregator.state.SourceRef;
import io.labelscope.aggregator.state.StepEntry;
import io.labelscope.aggregator.state.UnaryEntry;
import io.labelscope.aggregator.ops.StreamThreadRecovery;
import io.labelscope.math.Calibration;
import io.labelscope.math.Moments;
import io.labelscope.math.PlattScaling;
import java.nio.ByteBuffer;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/**
 * The documents' state as an Avro record ({@link DocumentStateRecords} through {@link InternalAvroSerde}) keeps
 * every field and the order of every map (compared through Jackson, as the JSON views write them); a value of
 * the binary format before it fails with one error naming the upgrade procedure.
 */
class DocumentStateSerdeTest {

    /** Compares state values field by field (records and the mutable state classes alike). */
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AggregatorSerdes serdes = new AggregatorSerdes(
            io.labelscope.schemas.serde.AvroSerdeConfig.registry("http://127.0.0.1:9")); // never contacted

    static DocumentState fullState() {
        DocumentState s = new DocumentState();
        s.documentId = "d1";
        s.task = "emotions";
        s.labels = List.of("joy", "fear");
        RunState run = s.run("org/model", "run-1");
        run.methods = List.of("generate", "unary", "binary");
        Map<String, Double> logits = new LinkedHashMap<>();
        logits.put("joy", 1.5);
        logits.put("fear", -0.25);
        logits.put("none", 0.0);
        run.steps.put(0, new StepEntry(0, 1, null, logits, 42L));
        Map<String, Double> unordered = new LinkedHashMap<>(); // not over labels then none: kept with its names
        unordered.put("none", 2.0);
        unordered.put("joy", null);
        run.steps.put(1, new StepEntry(1, 2, "joy", unordered, 47L));
        run.generation = new GenerationEntry(List.of("joy"), 1, 43L, "Labels: joy");
        run.unary = new UnaryEntry(new double[] {1, 2, 3}, new double[] {-1, Double.MIN_VALUE, 0.1}, 44L);
        run.binary = new BinaryEntry(List.of(new BinaryEntry.Pair(0, 2, 0.5, -0.5),
                new BinaryEntry.Pair(1, 0, 0.1, 0.2)), 45L);
        Map<String, MethodView> methods = new LinkedHashMap<>();
        Map<String, Double> firstStep = new LinkedHashMap<>(); // in label order, as the assembler builds them
        firstStep.put("joy", 0.6);
        firstStep.put("fear", 0.2);
        methods.put("first_step", new MethodView(firstStep, List.of("joy"), 1.25, null, 0.5));
        Map<String, Double> partial = new LinkedHashMap<>();   // not over the labels: written as a full map
        partial.put("fear", 0.5);
        methods.put("other", new MethodView(partial, List.of(), null, null, null));
        Map<String, AlignmentTally> alignment = new TreeMap<>();
        alignment.put("first_step", new AlignmentTally(new Moments(1, 1.25, 1.5625), Moments.EMPTY, Moments.of(0.5)));
        Map<String, SpikinessTally> cells = new TreeMap<>();
        cells.put("last/0", SpikinessTally.empty().plus(new SpikinessTally(Moments.of(0.6), Moments.of(0.2),
                Moments.of(1.3), new long[] {0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, Moments.EMPTY, Moments.EMPTY,
                Moments.EMPTY, 1, 2, 3, 4, 5, 6, 7, 8, 9)));
        run.emitted = new Emitted(43L, new DistributionView("d1", "emotions", "org/model", "run-1", s.labels,
                null, 1, methods, 46L, 3L), new AlignmentTallies(alignment), new SpikinessTallies(cells));
        run.calibrator = new Calibration.Calibrator(false, 7, new TreeMap<>(Map.of("joy",
                new PlattScaling.PlattMap(0.9, -0.1))));
        s.annotations.put("a1", new AnnotationEntry("a1", List.of("joy"), 7L, true, null, null));
        s.annotations.put("a2", new AnnotationEntry("a2", List.of("rage"), 8L, false,
                new SourceRef("annotations", 2, 99L, "d1", new byte[] {0, 1, 2}), "emotions"));
        return s;
    }

    private static String json(Object value) throws Exception {
        return JSON.writeValueAsString(value);
    }

    @Test
    void documentStateRoundTrips() throws Exception {
        DocumentState s = fullState();
        s.runs.put(DocumentState.runKey("org/other", "run-2"), new RunState("org/other", "run-2")); // bare run
        byte[] bytes = serdes.documentState.serializer().serialize("t", s);
        DocumentState back = serdes.documentState.deserializer().deserialize("t", bytes);
        assertThat(json(back)).isEqualTo(json(s));
        assertThat(back.runs.get(DocumentState.runKey("org/model", "run-1")).generation.rawOutput())
                .isEqualTo("Labels: joy");
    }

    /**
     * State written by the version before the calibrated method (its schema kept in {@code avro-history}) is read
     * by this one: the runs come back without a frozen calibrator, everything else as it was.
     */
    @Test
    void stateWrittenBeforeTheCalibratedMethodIsRead() throws Exception {
        DocumentState s = fullState();
        s.runs.values().forEach(run -> run.calibrator = null);
        Schema before = InternalAvroSerde.history("DocumentStateRecord").get(0);
        assertThat(before.getField("runs").schema().getElementType().getField("calibrator")).isNull();
        // The same state as the version before wrote it: its record, field by field, in the schema of then.
        GenericRecord old = (GenericRecord) GenericData.get().deepCopy(before, DocumentStateRecords.record(s));
        ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), before).encode(old);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        DocumentState back = serdes.documentState.deserializer().deserialize("documents-changelog", bytes);
        assertThat(json(back)).isEqualTo(json(s));
        Schema pendingBefore = InternalAvroSerde.history("PendingChangeRecord").get(0);
        GenericRecord change = new GenericData.Record(pendingBefore.getField("change").schema());
        GenericRecord pending = new GenericData.Record(pendingBefore);
        pending.put("time", 5L);
        pending.put("change", change);
        ByteBuffer p = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), pendingBefore).encode(pending);
        byte[] pendingBytes = new byte[p.remaining()];
        p.get(pendingBytes);
        assertThat(serdes.pendingChange.deserializer().deserialize("t", pendingBytes))
                .isEqualTo(new Assembled.PendingChange(5L, new Assembled.MetricsChange(null, null, null)));
    }

    /** Maps come back in the order they were kept (labels in instruction order), whatever Avro's maps do. */
    @Test
    void mapsKeepTheirOrder() {
        DocumentState s = fullState();
        s.labels = List.of("sadness", "anger", "joy", "fear", "surprise", "disgust", "trust");
        RunState run = s.runs.values().iterator().next();
        Map<String, Double> logits = new LinkedHashMap<>();
        for (int i = 0; i < s.labels.size(); i++) {
            logits.put(s.labels.get(i), (double) i);
        }
        logits.put("none", -1.0);
        run.steps.put(0, new StepEntry(0, 1, null, logits, 42L));
        DocumentState back = serdes.documentState.deserializer().deserialize("t",
                serdes.documentState.serializer().serialize("t", s));
        assertThat(back.runs.values().iterator().next().steps.get(0).logits().keySet())
                .containsExactly("sadness", "anger", "joy", "fear", "surprise", "disgust", "trust", "none");
    }

    /**
     * A value of the binary state format before the Avro state (its first byte is the format number, 1 or 2) is
     * refused with one error that names the upgrade procedure, and the stream thread's handler stops the client
     * on it instead of replacing the thread again and again.
     */
    @Test
    void stateOfTheBinaryFormatFailsNamingTheUpgrade() {
        byte[] binaryFormat2 = {2, 0, 0, 0, 2, 'd', '1'};
        assertThatThrownBy(() -> serdes.documentState.deserializer().deserialize("documents-changelog", binaryFormat2))
                .isInstanceOf(UnreadableStateException.class)
                .hasMessageContaining("first byte 2")
                .hasMessageContaining("State format and upgrades")
                .hasMessageContaining("kafka-streams-application-reset");
        UnreadableStateException unreadable = catchThrowableOfType(() -> serdes.pendingChange.deserializer()
                .deserialize("t", new byte[] {1, 0}), UnreadableStateException.class);
        assertThat(new StreamThreadRecovery().handle(new StreamsException("store read", unreadable)))
                .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }
}
