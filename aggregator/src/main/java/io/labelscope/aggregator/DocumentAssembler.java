package io.labelscope.aggregator;

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
import io.labelscope.aggregator.state.StepEntry;
import io.labelscope.aggregator.state.UnaryEntry;
import io.labelscope.math.BinaryBreakdown;
import io.labelscope.math.Conventions;
import io.labelscope.math.DocumentAnalysis;
import io.labelscope.math.GenerationDynamics;
import io.labelscope.math.HumanDistribution;
import io.labelscope.math.InvalidInputException;
import io.labelscope.math.Labels;
import io.labelscope.math.Method;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.PairLogits;
import io.labelscope.schemas.UnaryLogits;
import io.labelscope.schemas.UnaryProbes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import io.labelscope.aggregator.state.SourceRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Collects each document's steps, generations, unary/binary probes and annotations (state store {@link #STORE})
 * and emits its distributions once a run is complete, again whenever its annotations change, and the matching
 * changes to the task/model metrics. The science is {@link DocumentAnalysis} from paper-math; this class only
 * keeps state.
 *
 * <ul>
 *   <li>A run (document, model, run id) is complete when every method in its method set has arrived, in any
 *       order (see {@link RunState#complete()}); a re-sent record replaces the earlier one. A run without
 *       {@code generate} emits only its breakdowns and adds nothing to the spikiness statistics.</li>
 *   <li>Annotations: one per annotator id, a re-sent one replaces the earlier one. They are checked against the
 *       document's task and label set as soon as these are known (they travel with steps, generations and
 *       probes; an annotation that comes first is held until then); one of another task
 *       ({@code task_mismatch}) or with an unknown label ({@code unknown_label}) is dead-lettered and the
 *       annotator's previous annotation, if any, stays.</li>
 *   <li>Every emission carries the run's previous metric contribution subtracted and the new one added, so the
 *       all-time metrics count each document once with its current annotations.</li>
 *   <li>Metric changes are not forwarded one by one: they are summed per task/model and time bucket in the
 *       state store {@link #PENDING_STORE} and forwarded, one record per key, by a wall-clock punctuation once
 *       per commit interval ({@link #flushChanges}).</li>
 * </ul>
 */
final class DocumentAssembler implements Processor<String, DocumentEvent, String, Assembled> {

    static final String STORE = "documents";

    /**
     * Metric changes summed per task/model and time bucket until the next flush (see {@link #flushChanges}).
     * A state store with a changelog, written in the same transaction as the input offsets, so a crash neither
     * loses nor repeats a change.
     */
    static final String PENDING_STORE = "metric-changes-pending";

    /** Flush interval when the configuration names no commit interval (the exactly-once default). */
    static final long DEFAULT_FLUSH_MS = 100;

    /** The distributions that come from the generate method (steps and answer). */
    private static final Set<Method> GENERATION_METHODS = java.util.EnumSet.of(Method.MAX_OVER_GENERATIONS,
            Method.COMPARE_TO_NONE, Method.HARD_PREDICTIONS, Method.FIRST_STEP);

    private final Conventions conventions;
    private final long bucketMs;
    private ProcessorContext<String, Assembled> context;
    private KeyValueStore<String, DocumentState> store;
    private KeyValueStore<String, Assembled.PendingChange> pending;

    /**
     * @param bucketMs the time bucket metric changes are summed in before they are sent (a divisor of every
     *                 window's size and advance, so a bucket lies in exactly the same windows as each of its
     *                 changes)
     */
    DocumentAssembler(Conventions conventions, long bucketMs) {
        if (bucketMs <= 0) {
            throw new IllegalArgumentException("metric bucket must be positive: " + bucketMs + " ms");
        }
        this.conventions = conventions;
        this.bucketMs = bucketMs;
    }

    @Override
    public void init(ProcessorContext<String, Assembled> context) {
        this.context = context;
        this.store = context.getStateStore(STORE);
        this.pending = context.getStateStore(PENDING_STORE);
        context.schedule(Duration.ofMillis(flushIntervalMs(context.appConfigs())), PunctuationType.WALL_CLOCK_TIME,
                t -> flushChanges());
    }

    /** The commit interval: metric changes are flushed once per commit, when they become visible anyway. */
    static long flushIntervalMs(Map<String, Object> configs) {
        Object v = configs.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG);
        if (v == null) {
            return DEFAULT_FLUSH_MS;
        }
        long ms = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
        return Math.max(1, ms);
    }

    /**
     * Sends every pending metric change (one record per task/model and bucket, stamped with the latest
     * generation time among its changes) and removes it, oldest first, so the aggregates see changes in
     * generation-time order within one flush.
     */
    void flushChanges() {
        List<KeyValue<String, Assembled.PendingChange>> all = new ArrayList<>();
        try (KeyValueIterator<String, Assembled.PendingChange> it = pending.all()) {
            it.forEachRemaining(all::add);
        }
        if (all.isEmpty()) {
            return;
        }
        all.sort(Comparator.<KeyValue<String, Assembled.PendingChange>>comparingLong(kv -> kv.value.time())
                .thenComparing(kv -> kv.key));
        for (KeyValue<String, Assembled.PendingChange> kv : all) {
            pending.delete(kv.key);
            String taskModel = kv.key.substring(kv.key.indexOf(Keys.SEPARATOR) + 1);
            context.forward(new Record<>(taskModel, kv.value.change(), kv.value.time()));
        }
    }

    @Override
    public void process(Record<String, DocumentEvent> record) {
        DocumentEvent event = record.value();
        if (event instanceof DocumentEvent.Rejected r) {
            context.forward(record.withValue(new Assembled.Rejected(r.deadLetter())));
            return;
        }
        String documentId = record.key();
        DocumentState state = store.get(documentId);
        if (state == null) {
            state = new DocumentState();
            state.documentId = documentId;
        }
        long now = record.timestamp();
        if (event instanceof DocumentEvent.StepArrived s) {
            onStep(state, s, now);
        } else if (event instanceof DocumentEvent.GenerationArrived g) {
            onGeneration(state, g, now);
        } else if (event instanceof DocumentEvent.UnaryArrived u) {
            onUnary(state, u, now);
        } else if (event instanceof DocumentEvent.BinaryArrived b) {
            onBinary(state, b, now);
        } else if (event instanceof DocumentEvent.AnnotationArrived a) {
            onAnnotation(state, a, now);
        }
        store.put(documentId, state);
    }

    private void onStep(DocumentState state, DocumentEvent.StepArrived event, long now) {
        LabelStep s = event.step();
        if (!adoptLabelSet(state, s.getTask(), s.getLabels(), event.source(), now)) {
            return;
        }
        Map<String, Double> logits = new HashMap<>();
        s.getLogits().forEach((k, v) -> logits.put(Labels.normalize(k), v));
        RunState run = state.run(s.getModel(), s.getRunId());
        run.steps.put(s.getStep(), new StepEntry(s.getStep(), s.getStepsTotal(), s.getGeneratedLabel(), logits,
                s.getProducedAt().toEpochMilli()));
        emitIfComplete(state, run, now);
    }

    private void onGeneration(DocumentState state, DocumentEvent.GenerationArrived event, long now) {
        Generation g = event.generation();
        if (!adoptLabelSet(state, g.getTask(), g.getLabels(), event.source(), now)) {
            return;
        }
        RunState run = state.run(g.getModel(), g.getRunId());
        run.methods = List.copyOf(g.getMethods());
        run.generation = new GenerationEntry(List.copyOf(g.getParsedLabels()), g.getStepsTotal(),
                g.getProducedAt().toEpochMilli(), g.getRawOutput());
        emitIfComplete(state, run, now);
    }

    private void onUnary(DocumentState state, DocumentEvent.UnaryArrived event, long now) {
        UnaryProbes u = event.probes();
        if (!adoptLabelSet(state, u.getTask(), u.getLabels(), event.source(), now)) {
            return;
        }
        Map<String, UnaryLogits> byLabel = new HashMap<>();
        u.getProbes().forEach((k, v) -> byLabel.put(Labels.normalize(k), v));
        int items = state.labels.size() + 1;
        double[] reasonable = new double[items];
        double[] unreasonable = new double[items];
        for (int k = 0; k < items; k++) {
            UnaryLogits z = byLabel.get(Labels.nameAt(state.labels, k));
            reasonable[k] = z.getReasonable();
            unreasonable[k] = z.getUnreasonable();
        }
        RunState run = state.run(u.getModel(), u.getRunId());
        run.methods = List.copyOf(u.getMethods());
        run.unary = new UnaryEntry(reasonable, unreasonable, u.getProducedAt().toEpochMilli());
        emitIfComplete(state, run, now);
    }

    private void onBinary(DocumentState state, DocumentEvent.BinaryArrived event, long now) {
        BinaryProbes b = event.probes();
        if (!adoptLabelSet(state, b.getTask(), b.getLabels(), event.source(), now)) {
            return;
        }
        List<BinaryEntry.Pair> pairs = new ArrayList<>(b.getPairs().size());
        for (PairLogits p : b.getPairs()) {
            pairs.add(new BinaryEntry.Pair(Labels.indexWithNone(state.labels, Labels.normalize(p.getA())),
                    Labels.indexWithNone(state.labels, Labels.normalize(p.getB())), p.getLogitA(), p.getLogitB()));
        }
        RunState run = state.run(b.getModel(), b.getRunId());
        run.methods = List.copyOf(b.getMethods());
        run.binary = new BinaryEntry(pairs, b.getProducedAt().toEpochMilli());
        emitIfComplete(state, run, now);
    }

    private void onAnnotation(DocumentState state, DocumentEvent.AnnotationArrived event, long now) {
        Annotation a = event.annotation();
        if (state.task == null) {
            state.task = a.getTask(); // provisional (shown by the REST API); the first worker record fixes it
        }
        // The task and label set are known once a step, generation or probe record has carried them.
        boolean checked = state.labels != null;
        if (checked && rejectAnnotation(state, a.getTask(), a.getLabels(), event.source(), now)) {
            return;
        }
        AnnotationEntry previous = state.annotations.get(a.getAnnotatorId());
        // The original record and its task are kept only while it may still have to be dead-lettered.
        AnnotationEntry entry = new AnnotationEntry(a.getAnnotatorId(), List.copyOf(a.getLabels()),
                a.getAnnotatedAt().toEpochMilli(), checked, checked ? null : event.source(),
                checked ? null : a.getTask());
        state.annotations.put(a.getAnnotatorId(), entry);
        if (previous != null && previous.checked() && sameLabels(state, previous.labels(), entry.labels())) {
            return; // the same vote again: H is unchanged, nothing to re-emit
        }
        for (RunState run : state.runs.values()) {
            emitIfComplete(state, run, now);
        }
    }

    /**
     * The first step, generation or probe record fixes the document's task and label set; a later record with a
     * different set is rejected (its numbers would not be comparable). Annotations that arrived before they were
     * known are checked now (task, then labels) and dead-lettered then if they do not fit.
     */
    private boolean adoptLabelSet(DocumentState state, String task, List<String> rawLabels,
                                  SourceRef source, long now) {
        List<String> labels = Labels.normalizeLabelSet(rawLabels);
        if (state.labels == null) {
            state.labels = labels;
            state.task = task;
            checkEarlyAnnotations(state, now);
            return true;
        }
        if (!state.labels.equals(labels)) {
            context.forward(new Record<>(source.key(), new Assembled.Rejected(InputDecoder.reject(source,
                    "label_set_mismatch", "label set " + labels + " differs from the set " + state.labels
                            + " this document's earlier records carried").deadLetter()), now));
            return false;
        }
        return true;
    }

    private void checkEarlyAnnotations(DocumentState state, long now) {
        Iterator<Map.Entry<String, AnnotationEntry>> it = state.annotations.entrySet().iterator();
        Map<String, AnnotationEntry> accepted = new TreeMap<>();
        while (it.hasNext()) {
            AnnotationEntry a = it.next().getValue();
            if (!a.checked() && !rejectAnnotation(state, a.task(), a.labels(), a.source(), now)) {
                accepted.put(a.annotatorId(), new AnnotationEntry(a.annotatorId(), a.labels(), a.annotatedAt(),
                        true, null, null));
            } else if (a.checked()) {
                accepted.put(a.annotatorId(), a);
            }
        }
        state.annotations = accepted;
    }

    /**
     * Dead-letters an annotation of another task than the document's ({@code task_mismatch}; checked first: the
     * labels of another task mean nothing here) or naming a label outside the set ({@code unknown_label}); true
     * when it did. A null task (an annotation held in state written before the task was kept) is not checked.
     */
    private boolean rejectAnnotation(DocumentState state, String task, List<String> labels,
                                     SourceRef source, long now) {
        if (task != null && !task.equals(state.task)) {
            context.forward(new Record<>(source.key(), new Assembled.Rejected(InputDecoder.reject(source,
                    "task_mismatch", "annotation is for task '" + task + "', but document '" + state.documentId
                            + "' belongs to task '" + state.task + "' (from its label steps, generation or probes)")
                    .deadLetter()), now));
            return true;
        }
        Set<String> unknown = HumanDistribution.unknownLabels(state.labels, labels);
        if (unknown.isEmpty()) {
            return false;
        }
        context.forward(new Record<>(source.key(), new Assembled.Rejected(InputDecoder.reject(source,
                "unknown_label", "annotation names " + unknown + ", not labels of task " + state.task + " "
                        + state.labels).deadLetter()), now));
        return true;
    }

    /** Same vote: the same labels of the set, whatever the spelling, order or repeats. */
    private static boolean sameLabels(DocumentState state, List<String> a, List<String> b) {
        return Arrays.equals(HumanDistribution.of(state.labels, List.of(a)),
                HumanDistribution.of(state.labels, List.of(b)));
    }

    private void emitIfComplete(DocumentState state, RunState run, long now) {
        if (!run.complete()) {
            return;
        }
        DocumentAnalysis.Report report;
        try {
            report = DocumentAnalysis.analyse(input(state, run), conventions);
        } catch (InvalidInputException e) {
            // Cannot happen for checked input; if it does, say so on the dead letters instead of stopping.
            context.forward(new Record<>(state.documentId, new Assembled.Rejected(InputDecoder.reject(
                    new SourceRef("(state)", -1, -1, state.documentId, null),
                    "invalid", e.getMessage()).deadLetter()), now));
            return;
        }
        long version = run.emitted == null ? 1 : run.emitted.distribution().version() + 1;
        Map<Method, DocumentAnalysis.MethodResult> methods = methodsOf(run, report);
        DistributionView view = view(state, run, report, methods, now, version);
        AlignmentTallies alignment = alignment(methods);
        // Spikiness is about the generation steps: nothing from a run that did not generate.
        SpikinessTallies spikiness = run.has(RunState.GENERATE) ? spikiness(report) : SpikinessTallies.empty();
        long generationTime = run.time();
        Emitted old = run.emitted;
        if (old != null && old.generationTime() == generationTime && sameContent(old.distribution(), view)
                && old.spikiness().equals(spikiness)) {
            return; // a duplicate changed nothing: no new version, no metric change
        }

        context.forward(new Record<>(state.documentId, new Assembled.Distribution(AvroRecords.distribution(view)),
                now));
        String metricsKey = Keys.taskModel(state.task, run.model);
        if (old == null) {
            forwardChange(metricsKey, alignment, spikiness, generationTime, true);
        } else if (old.generationTime() == generationTime) {
            forwardChange(metricsKey, AlignmentTallies.change(old.alignment(), alignment),
                    old.spikiness().equals(spikiness) ? SpikinessTallies.empty()
                            : old.spikiness().negate().plus(spikiness), generationTime, false);
        } else {
            // A re-sent generation with another time: take the old contribution out of the windows it was in.
            forwardChange(metricsKey, old.alignment().negate(), old.spikiness().negate(), old.generationTime(),
                    false);
            forwardChange(metricsKey, alignment, spikiness, generationTime, true);
        }
        run.emitted = new Emitted(generationTime, view, alignment, spikiness);
    }

    /**
     * Adds a change of the task/model metrics to the pending sum of its time bucket (sent by
     * {@link #flushChanges}, stamped with a generation time; windows are on generation time). A first contribution goes out even when all zeros (no annotators yet): it makes the task/model and
     * its methods visible on the dashboard with 0 documents.
     */
    private void forwardChange(String key, AlignmentTallies alignment, SpikinessTallies spikiness, long time,
                               boolean first) {
        boolean sendAlignment = first || alignment.byMethod().values().stream().anyMatch(t -> !t.isEmpty());
        if (sendAlignment || !spikiness.isEmpty()) {
            Assembled.MetricsChange change = new Assembled.MetricsChange(sendAlignment ? alignment : null,
                    spikiness.isEmpty() ? null : spikiness);
            String pendingKey = Math.floorDiv(time, bucketMs) + Keys.SEPARATOR + key;
            Assembled.PendingChange previous = pending.get(pendingKey);
            pending.put(pendingKey, previous == null ? new Assembled.PendingChange(time, change)
                    : new Assembled.PendingChange(Math.max(time, previous.time()), previous.change().plus(change)));
        }
    }

    private static boolean sameContent(DistributionView a, DistributionView b) {
        return a.labels().equals(b.labels()) && a.annotators() == b.annotators()
                && java.util.Objects.equals(a.human(), b.human()) && a.methods().equals(b.methods());
    }

    /** The run's inputs of the methods it has (a run without generate has no steps and no answer). */
    private DocumentAnalysis.DocumentInput input(DocumentState state, RunState run) {
        List<String> labels = state.labels;
        List<DocumentAnalysis.StepInput> steps = new ArrayList<>();
        List<String> answer = List.of();
        if (run.has(RunState.GENERATE)) {
            for (int i = 0; i < run.generation.stepsTotal(); i++) {
                StepEntry s = run.steps.get(i);
                double[] z = new double[labels.size() + 1];
                for (int k = 0; k <= labels.size(); k++) {
                    z[k] = s.logits().get(Labels.nameAt(labels, k));
                }
                steps.add(new DocumentAnalysis.StepInput(z, s.generated()));
            }
            answer = run.generation.parsedLabels();
        }
        DocumentAnalysis.UnaryInput unary = null;
        if (run.has(RunState.UNARY)) {
            // The breakdown is over the labels; the none probe (last) is kept in the state but not used.
            unary = new DocumentAnalysis.UnaryInput(Arrays.copyOf(run.unary.reasonable(), labels.size()),
                    Arrays.copyOf(run.unary.unreasonable(), labels.size()));
        }
        List<BinaryBreakdown.PairLogits> binary = null;
        if (run.has(RunState.BINARY)) {
            binary = new ArrayList<>();
            for (BinaryEntry.Pair p : run.binary.pairs()) {
                binary.add(new BinaryBreakdown.PairLogits(p.a(), p.b(), p.logitA(), p.logitB()));
            }
        }
        List<List<String>> annotators = new ArrayList<>();
        for (AnnotationEntry a : state.annotations.values()) {
            annotators.add(a.labels());
        }
        return new DocumentAnalysis.DocumentInput(state.documentId, labels, steps, answer, annotators, null, unary,
                binary);
    }

    /**
     * The report's methods this run has: paper-math always computes the four generation methods (from no steps
     * when there are none), but a run that did not generate has no such distributions to show or score.
     */
    private static Map<Method, DocumentAnalysis.MethodResult> methodsOf(RunState run, DocumentAnalysis.Report report) {
        Map<Method, DocumentAnalysis.MethodResult> methods = new java.util.EnumMap<>(report.methods());
        if (!run.has(RunState.GENERATE)) {
            methods.keySet().removeAll(GENERATION_METHODS);
        }
        return methods;
    }

    private static DistributionView view(DocumentState state, RunState run, DocumentAnalysis.Report report,
                                         Map<Method, DocumentAnalysis.MethodResult> results, long now,
                                         long version) {
        Map<String, MethodView> methods = new LinkedHashMap<>();
        for (Map.Entry<Method, DocumentAnalysis.MethodResult> e : results.entrySet()) {
            DocumentAnalysis.MethodResult m = e.getValue();
            methods.put(e.getKey().wireName(), new MethodView(labelMap(state.labels, m.distribution()),
                    m.predictedLabels(), m.scores() == null ? null : m.scores().nll(),
                    m.scores() == null ? null : m.scores().l1(),
                    m.scores() == null ? null : m.scores().exampleF1()));
        }
        return new DistributionView(state.documentId, state.task, run.model, run.runId, state.labels,
                report.human() == null ? null : labelMap(state.labels, report.human()), report.annotatorCount(),
                methods, now, version);
    }

    private static Map<String, Double> labelMap(List<String> labels, double[] values) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            m.put(labels.get(i), values[i]);
        }
        return m;
    }

    /** This document's contribution to the alignment means: its scores per method (nothing without annotators). */
    static AlignmentTallies alignment(Map<Method, DocumentAnalysis.MethodResult> methods) {
        Map<String, AlignmentTally> byMethod = new TreeMap<>();
        methods.forEach((method, result) -> byMethod.put(method.wireName(),
                AlignmentTally.of(result.scores())));
        return new AlignmentTallies(byMethod);
    }

    /** This answer's contribution to the spikiness statistics: one sample per step cell plus the answer cell. */
    static SpikinessTallies spikiness(DocumentAnalysis.Report report) {
        GenerationDynamics.Result dyn = report.dynamics();
        Map<String, SpikinessTally> cells = new TreeMap<>();
        for (int i = 0; i < dyn.stepCount(); i++) {
            cells.merge(SpikinessTallies.stepCell(dyn.isLast(i), i),
                    SpikinessTally.ofStep(dyn.shapes().get(i), dyn.rankings().get(i)), SpikinessTally::plus);
        }
        SpikinessTally answer = SpikinessTally.ofAnswer(dyn.multilabelOutput(), dyn.order());
        cells.put(SpikinessTallies.ANSWER_CELL, answer);
        return new SpikinessTallies(cells);
    }
}
