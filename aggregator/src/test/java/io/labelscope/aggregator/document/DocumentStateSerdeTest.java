package io.labelscope.aggregator.document;

import io.labelscope.aggregator.metrics.MetricStateRecords;
import io.labelscope.aggregator.serde.AggregatorSerdes;
import io.labelscope.aggregator.serde.UnreadableStateException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.labelscope.aggregator.avro.AnnotationStateRecord;
import io.labelscope.aggregator.avro.BinaryStateRecord;
import io.labelscope.aggregator.avro.DistributionStateRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.EmittedRecord;
import io.labelscope.aggregator.avro.GenerationStateRecord;
import io.labelscope.aggregator.avro.MethodStateRecord;
import io.labelscope.aggregator.avro.NamedDoublesRecord;
import io.labelscope.aggregator.avro.PairRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.aggregator.avro.SourceRecord;
import io.labelscope.aggregator.avro.StepRecord;
import io.labelscope.aggregator.avro.UnaryStateRecord;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.metrics.SpikinessTally;
import io.labelscope.aggregator.ops.StreamThreadRecovery;
import io.labelscope.math.Moments;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/**
 * The documents' state is the Avro record {@link DocumentStateRecord} itself, written by {@link InternalAvroSerde}:
 * every field comes back, and the values over the labels in their order (the JSON views list them so); a value of
 * the binary format before it fails with one error naming the upgrade procedure.
 */
public class DocumentStateSerdeTest {

    private final AggregatorSerdes serdes = new AggregatorSerdes(
            io.labelscope.schemas.serde.AvroSerdeConfig.registry("http://127.0.0.1:9")); // never contacted

    public static DocumentStateRecord fullState() {
        DocumentStateRecord s = DocumentStates.empty("d1");
        s.setTask("emotions");
        s.setLabels(List.of("joy", "fear"));
        RunRecord run = DocumentStates.run(s, "org/model", "run-1");
        run.setTaskVersion("a1b2c3d4e5f6");
        run.setMethods(List.of("generate", "unary", "binary"));
        DocumentStates.putStep(run, new StepRecord(0, 1, null, NamedDoubles.of(new double[] {1.5, -0.25, 0.0}), 42L));
        // Not over labels then none: kept with its names.
        DocumentStates.putStep(run, new StepRecord(1, 2, "joy",
                new NamedDoublesRecord(List.of("none", "joy"), Arrays.asList(2.0, null)), 47L));
        run.setGeneration(new GenerationStateRecord(List.of("joy"), 1, 43L, "Labels: joy"));
        run.setUnary(new UnaryStateRecord(List.of(1.0, 2.0, 3.0), List.of(-1.0, Double.MIN_VALUE, 0.1), 44L));
        run.setBinary(new BinaryStateRecord(List.of(new PairRecord(0, 2, 0.5, -0.5), new PairRecord(1, 0, 0.1, 0.2)),
                45L));
        List<MethodStateRecord> methods = List.of(
                new MethodStateRecord("first_step", NamedDoubles.of(new double[] {0.6, 0.2}), List.of("joy"), 1.25,
                        null, 0.5),
                new MethodStateRecord("other", new NamedDoublesRecord(List.of("fear"), List.of(0.5)), List.of(),
                        null, null, null));
        Map<String, AlignmentTally> alignment = new TreeMap<>();
        alignment.put("first_step", new AlignmentTally(new Moments(1, 1.25, 1.5625), Moments.EMPTY, Moments.of(0.5)));
        Map<String, SpikinessTally> cells = new TreeMap<>();
        cells.put("last/0", SpikinessTally.empty().plus(new SpikinessTally(Moments.of(0.6), Moments.of(0.2),
                Moments.of(1.3), new long[] {0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, Moments.EMPTY, Moments.EMPTY,
                Moments.EMPTY, 1, 2, 3, 4, 5, 6, 7, 8, 9)));
        run.setEmitted(new EmittedRecord(43L, new DistributionStateRecord("d1", "emotions", "org/model", "run-1",
                s.getLabels(), null, 1, methods, 46L, 3L, "a1b2c3d4e5f6"),
                MetricStateRecords.alignment(new AlignmentTallies(alignment)),
                MetricStateRecords.spikiness(new SpikinessTallies(cells))));
        DocumentStates.putAnnotation(s, new AnnotationStateRecord("a1", List.of("joy"), 7L, true, null, null));
        DocumentStates.putAnnotation(s, new AnnotationStateRecord("a2", List.of("rage"), 8L, false,
                new SourceRecord("annotations", 2, 99L, "d1", ByteBuffer.wrap(new byte[] {0, 1, 2})), "emotions"));
        return s;
    }

    @Test
    void documentStateRoundTrips() {
        DocumentStateRecord s = fullState();
        DocumentStates.run(s, "org/other", "run-2"); // bare run
        byte[] bytes = serdes.documentState.serializer().serialize("t", s);
        DocumentStateRecord back = serdes.documentState.deserializer().deserialize("t", bytes);
        assertThat(back).isEqualTo(s);
        assertThat(back.toString()).isEqualTo(s.toString());
        assertThat(back.getRuns()).extracting(RunRecord::getModel).containsExactly("org/model", "org/other");
        assertThat(back.getRuns().get(0).getGeneration().getRawOutput()).isEqualTo("Labels: joy");
    }

    /** Values over the labels come back in label order (as the JSON views list them), names or not. */
    @Test
    void valuesOverTheLabelsKeepTheirOrder() {
        DocumentStateRecord s = fullState();
        s.setLabels(List.of("sadness", "anger", "joy", "fear", "surprise", "disgust", "trust"));
        RunRecord run = s.getRuns().get(0);
        DocumentStates.putStep(run, new StepRecord(0, 1, null,
                NamedDoubles.of(new double[] {0, 1, 2, 3, 4, 5, 6, -1}), 42L));
        DocumentStateRecord back = serdes.documentState.deserializer().deserialize("t",
                serdes.documentState.serializer().serialize("t", s));
        RunRecord backRun = back.getRuns().get(0);
        assertThat(NamedDoubles.map(DocumentStates.step(backRun, 0).getLogits(),
                NamedDoubles.withNone(back.getLabels())).keySet())
                .containsExactly("sadness", "anger", "joy", "fear", "surprise", "disgust", "trust", "none");
        assertThat(NamedDoubles.map(DocumentStates.step(backRun, 1).getLogits(), null).keySet())
                .containsExactly("none", "joy");
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
