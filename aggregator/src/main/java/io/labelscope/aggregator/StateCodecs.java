package io.labelscope.aggregator;

import io.labelscope.aggregator.BinarySerde.In;
import io.labelscope.aggregator.BinarySerde.Out;
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
import io.labelscope.math.Labels;
import io.labelscope.math.Moments;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The binary layouts of the aggregator's state values ({@link BinarySerde}): fields in declaration order, no
 * names. Changing a layout means a new {@link BinarySerde#FORMAT}; the reader of the old one must stay
 * ({@link BinarySerde.In#format()} says which format a value was written in).
 * <ul>
 *   <li>1: the first binary format;</li>
 *   <li>2: an annotation entry of a document's state ends with the annotation's task (issue #13: an annotation
 *       of another task than its document's is dead-lettered, also one held before the task was known).</li>
 * </ul>
 */
final class StateCodecs {

    private StateCodecs() {
    }

    static final BinarySerde.Codec<DocumentState> DOCUMENT = new BinarySerde.Codec<>() {
        @Override
        public void write(Out out, DocumentState s) throws IOException {
            out.string(s.documentId);
            out.string(s.task);
            out.strings(s.labels);
            out.writeInt(s.runs.size());
            for (RunState run : s.runs.values()) {
                writeRun(out, run, s.labels);
            }
            out.writeInt(s.annotations.size());
            for (AnnotationEntry a : s.annotations.values()) {
                out.writeUTF(a.annotatorId());
                out.strings(a.labels());
                out.writeLong(a.annotatedAt());
                out.writeBoolean(a.checked());
                out.writeBoolean(a.source() != null);
                if (a.source() != null) {
                    writeSource(out, a.source());
                }
                out.string(a.task()); // since format 2
            }
        }

        @Override
        public DocumentState read(In in) throws IOException {
            DocumentState s = new DocumentState();
            s.documentId = in.string();
            s.task = in.string();
            s.labels = in.strings();
            int runs = in.readInt();
            for (int i = 0; i < runs; i++) {
                RunState run = readRun(in, s.labels);
                s.runs.put(DocumentState.runKey(run.model, run.runId), run);
            }
            int annotations = in.readInt();
            for (int i = 0; i < annotations; i++) {
                String id = in.readUTF();
                List<String> labels = in.strings();
                long at = in.readLong();
                boolean checked = in.readBoolean();
                SourceRef source = in.readBoolean() ? readSource(in) : null;
                // Format 1 kept no task: such an unchecked annotation is checked against the label set only.
                String task = in.format() >= 2 ? in.string() : null;
                s.annotations.put(id, new AnnotationEntry(id, labels, at, checked, source, task));
            }
            return s;
        }
    };

    /** Where a record came from, with its original bytes (kept to dead-letter it later). */
    private static void writeSource(Out out, SourceRef r) throws IOException {
        out.string(r.topic());
        out.writeInt(r.partition());
        out.writeLong(r.offset());
        out.string(r.key());
        out.bytes(r.value());
    }

    private static SourceRef readSource(In in) throws IOException {
        return new SourceRef(in.string(), in.readInt(), in.readLong(), in.string(), in.bytes());
    }

    private static void writeRun(Out out, RunState run, List<String> labels) throws IOException {
        out.string(run.model);
        out.string(run.runId);
        out.strings(run.methods);
        out.writeInt(run.steps.size());
        for (StepEntry step : run.steps.values()) {
            out.writeInt(step.step());
            out.writeInt(step.stepsTotal());
            out.string(step.generated());
            writeLogits(out, step.logits(), labels);
            out.writeLong(step.producedAt());
        }
        out.writeBoolean(run.generation != null);
        if (run.generation != null) {
            out.strings(run.generation.parsedLabels());
            out.writeInt(run.generation.stepsTotal());
            out.writeLong(run.generation.producedAt());
        }
        out.writeBoolean(run.unary != null);
        if (run.unary != null) {
            out.doubles(run.unary.reasonable());
            out.doubles(run.unary.unreasonable());
            out.writeLong(run.unary.producedAt());
        }
        out.writeBoolean(run.binary != null);
        if (run.binary != null) {
            out.writeInt(run.binary.pairs().size());
            for (BinaryEntry.Pair p : run.binary.pairs()) {
                out.writeInt(p.a());
                out.writeInt(p.b());
                out.writeDouble(p.logitA());
                out.writeDouble(p.logitB());
            }
            out.writeLong(run.binary.producedAt());
        }
        out.writeBoolean(run.emitted != null);
        if (run.emitted != null) {
            Emitted e = run.emitted;
            out.writeLong(e.generationTime());
            writeDistribution(out, e.distribution());
            ALIGNMENT.write(out, e.alignment());
            SPIKINESS.write(out, e.spikiness());
        }
    }

    private static RunState readRun(In in, List<String> labels) throws IOException {
        RunState run = new RunState(in.string(), in.string());
        run.methods = in.strings();
        int steps = in.readInt();
        for (int i = 0; i < steps; i++) {
            StepEntry step = new StepEntry(in.readInt(), in.readInt(), in.string(), readLogits(in, labels),
                    in.readLong());
            run.steps.put(step.step(), step);
        }
        if (in.readBoolean()) {
            run.generation = new GenerationEntry(in.strings(), in.readInt(), in.readLong());
        }
        if (in.readBoolean()) {
            run.unary = new UnaryEntry(in.doubles(), in.doubles(), in.readLong());
        }
        if (in.readBoolean()) {
            int n = in.readInt();
            List<BinaryEntry.Pair> pairs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                pairs.add(new BinaryEntry.Pair(in.readInt(), in.readInt(), in.readDouble(), in.readDouble()));
            }
            run.binary = new BinaryEntry(pairs, in.readLong());
        }
        if (in.readBoolean()) {
            run.emitted = new Emitted(in.readLong(), readDistribution(in), ALIGNMENT.read(in), SPIKINESS.read(in));
        }
        return run;
    }

    /** A step's logits: one per label and none (keys normalised by the assembler). */
    private static void writeLogits(Out out, Map<String, Double> logits, List<String> labels) throws IOException {
        List<String> names = labels == null ? null : new ArrayList<>(labels);
        if (names != null) {
            names.add(Labels.NONE);
        }
        writeNamed(out, logits, names);
    }

    private static Map<String, Double> readLogits(In in, List<String> labels) throws IOException {
        List<String> names = labels == null ? null : new ArrayList<>(labels);
        if (names != null) {
            names.add(Labels.NONE);
        }
        return readNamed(in, names);
    }

    /**
     * A map over known names (the labels, maybe with none): when it has exactly those keys, non-null values, it
     * goes as doubles in the names' order, which spares writing and reading every label's name per value;
     * anything else (or null) as a full map.
     */
    private static void writeNamed(Out out, Map<String, Double> map, List<String> names) throws IOException {
        boolean inOrder = map != null && names != null && map.size() == names.size()
                && names.stream().allMatch(n -> map.get(n) != null);
        out.writeBoolean(inOrder);
        if (!inOrder) {
            out.doubleMap(map);
            return;
        }
        for (String name : names) {
            out.writeDouble(map.get(name));
        }
    }

    private static Map<String, Double> readNamed(In in, List<String> names) throws IOException {
        if (!in.readBoolean()) {
            return in.doubleMap();
        }
        Map<String, Double> map = new LinkedHashMap<>();
        for (String name : names) {
            map.put(name, in.readDouble());
        }
        return map;
    }

    private static void writeDistribution(Out out, DistributionView d) throws IOException {
        out.string(d.documentId());
        out.string(d.task());
        out.string(d.model());
        out.string(d.runId());
        out.strings(d.labels());
        writeNamed(out, d.human(), d.labels());
        out.writeInt(d.annotators());
        out.writeInt(d.methods().size());
        for (Map.Entry<String, MethodView> e : d.methods().entrySet()) {
            out.writeUTF(e.getKey());
            MethodView m = e.getValue();
            writeNamed(out, m.distribution(), d.labels());
            out.strings(m.predicted());
            out.nullableDouble(m.nll());
            out.nullableDouble(m.l1());
            out.nullableDouble(m.exampleF1());
        }
        out.writeLong(d.updatedAt());
        out.writeLong(d.version());
    }

    private static DistributionView readDistribution(In in) throws IOException {
        String documentId = in.string();
        String task = in.string();
        String model = in.string();
        String runId = in.string();
        List<String> labels = in.strings();
        Map<String, Double> human = readNamed(in, labels);
        int annotators = in.readInt();
        int n = in.readInt();
        Map<String, MethodView> methods = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            methods.put(name, new MethodView(readNamed(in, labels), in.strings(), in.nullableDouble(), in.nullableDouble(),
                    in.nullableDouble()));
        }
        return new DistributionView(documentId, task, model, runId, labels, human, annotators, methods,
                in.readLong(), in.readLong());
    }

    /** A run's emitted alignment share, inside the document's state. */
    private static final BinarySerde.Codec<AlignmentTallies> ALIGNMENT = new BinarySerde.Codec<>() {
        @Override
        public void write(Out out, AlignmentTallies t) throws IOException {
            out.writeInt(t.byMethod().size());
            for (Map.Entry<String, AlignmentTally> e : t.byMethod().entrySet()) {
                out.writeUTF(e.getKey());
                moments(out, e.getValue().nll());
                moments(out, e.getValue().l1());
                moments(out, e.getValue().exampleF1());
            }
        }

        @Override
        public AlignmentTallies read(In in) throws IOException {
            int n = in.readInt();
            Map<String, AlignmentTally> byMethod = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                byMethod.put(in.readUTF(), new AlignmentTally(moments(in), moments(in), moments(in)));
            }
            return new AlignmentTallies(byMethod);
        }
    };

    /** A run's emitted spikiness share, inside the document's state. */
    private static final BinarySerde.Codec<SpikinessTallies> SPIKINESS = new BinarySerde.Codec<>() {
        @Override
        public void write(Out out, SpikinessTallies t) throws IOException {
            out.writeInt(t.byCell().size());
            for (Map.Entry<String, SpikinessTally> e : t.byCell().entrySet()) {
                out.writeUTF(e.getKey());
                SpikinessTally c = e.getValue();
                moments(out, c.top1());
                moments(out, c.top2());
                moments(out, c.entropyBits());
                out.writeInt(c.top1Histogram().length);
                for (long h : c.top1Histogram()) {
                    out.writeLong(h);
                }
                moments(out, c.r1Pred());
                moments(out, c.intermediateAtR1());
                moments(out, c.nextTopAtR1());
                for (long v : new long[] {c.rankings(), c.nextIsSecond(), c.secondNotNext(), c.neverPredicted(),
                        c.answers(), c.multilabel(), c.twoPlus(), c.alphabetical(), c.promptOrder()}) {
                    out.writeLong(v);
                }
            }
        }

        @Override
        public SpikinessTallies read(In in) throws IOException {
            int n = in.readInt();
            Map<String, SpikinessTally> byCell = new TreeMap<>();
            for (int i = 0; i < n; i++) {
                String cell = in.readUTF();
                Moments top1 = moments(in);
                Moments top2 = moments(in);
                Moments entropy = moments(in);
                long[] histogram = new long[in.readInt()];
                for (int b = 0; b < histogram.length; b++) {
                    histogram[b] = in.readLong();
                }
                byCell.put(cell, new SpikinessTally(top1, top2, entropy, histogram, moments(in), moments(in),
                        moments(in), in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(),
                        in.readLong(), in.readLong(), in.readLong(), in.readLong()));
            }
            return new SpikinessTallies(byCell);
        }
    };

    private static void moments(Out out, Moments m) throws IOException {
        out.writeLong(m.count());
        out.writeDouble(m.sum());
        out.writeDouble(m.sumOfSquares());
    }

    private static Moments moments(In in) throws IOException {
        return new Moments(in.readLong(), in.readDouble(), in.readDouble());
    }
}
