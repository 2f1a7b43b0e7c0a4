package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

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
import io.labelscope.math.Moments;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The binary state format keeps every field (compared through the JSON view), and JSON state still reads. */
class BinarySerdeTest {

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
        run.generation = new GenerationEntry(List.of("joy"), 1, 43L);
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
        byte[] bytes = serdes.documentState.serializer().serialize("t", s);
        assertThat(bytes[0]).isEqualTo((byte) BinarySerde.FORMAT);
        DocumentState back = serdes.documentState.deserializer().deserialize("t", bytes);
        assertThat(json(back)).isEqualTo(json(s));
        // smaller than the JSON it replaces
        assertThat(bytes.length).isLessThan(json(s).length());
    }

    /**
     * Format 1 (before annotation entries kept their task) still reads: the same state without annotations,
     * then one unchecked annotation in the old layout, is read with a null task (checked by labels only).
     */
    @Test
    void stateOfFormat1StillReads() throws Exception {
        DocumentState s = fullState();
        s.annotations.clear();
        byte[] withoutAnnotations = serdes.documentState.serializer().serialize("t", s);
        BinarySerde.Buffer old = new BinarySerde.Buffer();
        BinarySerde.Out out = new BinarySerde.Out(old);
        out.writeByte(1);
        out.write(withoutAnnotations, 1, withoutAnnotations.length - 1 - 4); // all but the annotation count
        out.writeInt(1);
        out.writeUTF("a2");
        out.strings(List.of("rage"));
        out.writeLong(8L);
        out.writeBoolean(false);
        out.writeBoolean(true);
        out.string("annotations");
        out.writeInt(2);
        out.writeLong(99L);
        out.string("d1");
        out.bytes(new byte[] {0, 1, 2});
        out.flush();

        DocumentState back = serdes.documentState.deserializer().deserialize("t", old.toByteArray());
        s.annotations.put("a2", new AnnotationEntry("a2", List.of("rage"), 8L, false,
                new SourceRef("annotations", 2, 99L, "d1", new byte[] {0, 1, 2}), null));
        assertThat(json(back)).isEqualTo(json(s));
    }
}
