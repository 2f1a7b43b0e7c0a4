package io.labelscope.worker;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.jboss.logging.Logger;

import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.decode.LabelStepRecord;
import io.labelscope.runtime.decode.ProbeScorer;
import io.labelscope.runtime.task.ProbePrompts;
import io.labelscope.runtime.task.TaskMethod;
import io.labelscope.runtime.decode.StopReason;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.PairLogits;
import io.labelscope.schemas.UnaryLogits;
import io.labelscope.schemas.UnaryProbes;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.DeadLetters;
import io.labelscope.schemas.serde.Decoded;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;

/**
 * Turns a batch of consumed document records into the records to produce: for each valid document the outputs of
 * its task's methods (generate: its label steps and one generation; unary / binary: one probes record each), all
 * computed together per task with the task's shared-prefix caches; for each rejected one a
 * dead letter with the original bytes and a reason. Never throws for a document it knows to be bad; a schema registry
 * that cannot be reached throws ({@link io.labelscope.schemas.serde.SchemaRegistryUnavailableException}), and so
 * would a bug: {@link WorkerLoop} isolates the record that makes a batch throw and dead-letters it with
 * {@link #processingFailed}. Owned by one thread.
 */
public final class BatchProcessor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BatchProcessor.class);
    public static final String REJECTED_BY = "inference-worker";

    /**
     * Dead-letter error types. Values the deserializer rejects keep its type: {@link Decoded#UNDECODABLE},
     * {@link Decoded#WRONG_RECORD_TYPE}, {@link Decoded#TRAILING_BYTES}, {@link Decoded#INVALID_UTF8}.
     */
    public static final String UNDECODABLE = Decoded.UNDECODABLE;
    public static final String UNKNOWN_TASK = "unknown_task";
    public static final String EMPTY_TEXT = "empty_text";
    public static final String TOO_LONG = "too_long";
    public static final String MODEL_FAILURE = "model_failure";
    /** Processing the record threw, alone, on every one of its attempts (see WorkerLoop). */
    public static final String PROCESSING_FAILED = "processing_failed";

    /** What one document became. */
    public record DocumentOutcome(String documentId, String task, long submittedAtMillis, int steps,
                                  int promptTokens, int generatedTokens, int unaryProbes, int binaryProbes,
                                  int probePromptTokens) {}

    /** The records to produce for a batch, in input order, and what happened to each input. */
    public record Result(List<ProducerRecord<byte[], SpecificRecord>> records, List<DocumentOutcome> processed,
                         Map<String, Integer> deadLetters, long decodeNanos, Map<String, Long> methodNanos) {

        /** The results of two consecutive parts of a batch, as one (records in input order). */
        public Result followedBy(Result next) {
            List<ProducerRecord<byte[], SpecificRecord>> r = new ArrayList<>(records);
            r.addAll(next.records);
            List<DocumentOutcome> p = new ArrayList<>(processed);
            p.addAll(next.processed);
            Map<String, Integer> d = new LinkedHashMap<>(deadLetters);
            next.deadLetters.forEach((k, v) -> d.merge(k, v, Integer::sum));
            Map<String, Long> m = new LinkedHashMap<>(methodNanos);
            next.methodNanos.forEach((k, v) -> m.merge(k, v, Long::sum));
            return new Result(r, p, d, decodeNanos + next.decodeNanos, m);
        }
    }

    private final Models models;
    private final OptionalInt maxNewTokens;
    private final boolean reusePrefix;
    private final TaskRegistry tasks;
    private final FailSafeAvroDeserializer<Document> documents;
    private final Optional<String> failText;
    private final Optional<String> throwText;
    private final Map<String, Bound> decoders = new HashMap<>();

    /** A task bound to its model: the generate decoder and the probe scorer, each only if the task runs it. */
    private record Bound(TaskDefinition task, Models.Served model, LabelDecoder decoder, ProbeScorer scorer)
            implements AutoCloseable {
        @Override
        public void close() {
            try {
                if (decoder != null) {
                    decoder.close();
                }
            } finally {
                if (scorer != null) {
                    scorer.close();
                }
            }
        }
    }

    private record Valid(int index, ConsumerRecord<byte[], byte[]> record, Document doc, TaskDefinition task) {}

    /**
     * @param documents reads {@code documents} values; configured to expect {@link Document} records
     * @param failText  testing only: a document containing it fails in the model step (model_failure)
     * @param throwText testing only: processing a document containing it throws, as a bug in the worker would
     */
    public BatchProcessor(Models models, OptionalInt maxNewTokens, boolean reusePrefix, TaskRegistry tasks,
                          FailSafeAvroDeserializer<Document> documents, Optional<String> failText,
                          Optional<String> throwText) {
        this.models = models;
        this.maxNewTokens = maxNewTokens;
        this.reusePrefix = reusePrefix;
        this.tasks = tasks;
        this.documents = documents;
        this.failText = failText.filter(s -> !s.isEmpty());
        this.throwText = throwText.filter(s -> !s.isEmpty());
    }

    public Result process(List<ConsumerRecord<byte[], byte[]>> batch) {
        List<List<ProducerRecord<byte[], SpecificRecord>>> out = new ArrayList<>(batch.size());
        List<DocumentOutcome> processed = new ArrayList<>();
        Map<String, Integer> dead = new LinkedHashMap<>();
        Map<String, List<Valid>> byTask = new LinkedHashMap<>();
        boolean caughtUp = false;
        for (int i = 0; i < batch.size(); i++) {
            out.add(new ArrayList<>());
            ConsumerRecord<byte[], byte[]> r = batch.get(i);
            Decoded<Document> d = documents.deserialize(r.topic(), r.value());
            if (d instanceof Decoded.Undecodable<Document> u) {
                reject(out.get(i), dead, r, u.type(), u.reason());
                continue;
            }
            Document doc = ((Decoded.Ok<Document>) d).value();
            if (throwText.isPresent() && doc.getText() != null && doc.getText().contains(throwText.get())) {
                throw new IllegalStateException("injected processing failure (labelscope.worker.fault-injection-throw-text)"
                        + " on document '" + doc.getId() + "'");
            }
            Optional<TaskRegistry.Entry> entry = tasks.lookup(doc.getTask());
            if (entry.isEmpty() && !caughtUp) {
                // Registered a moment ago? Read the tasks topic to its end once per batch before rejecting.
                tasks.catchUp(java.time.Duration.ofSeconds(5));
                caughtUp = true;
                entry = tasks.lookup(doc.getTask());
            }
            if (entry.isEmpty()) {
                reject(out.get(i), dead, r, UNKNOWN_TASK, "document '" + doc.getId() + "' names task '" + doc.getTask()
                        + "', which is not registered (known: " + knownTasks() + ")");
                continue;
            }
            if (!entry.get().valid()) {
                reject(out.get(i), dead, r, UNKNOWN_TASK, "task '" + doc.getTask() + "' is registered ("
                        + entry.get().source() + ") but unusable: " + entry.get().error());
                continue;
            }
            if (doc.getText() == null || doc.getText().isBlank()) {
                reject(out.get(i), dead, r, EMPTY_TEXT, "document '" + doc.getId() + "' has "
                        + (doc.getText() == null || doc.getText().isEmpty() ? "an empty text" : "a text of white space only")
                        + "; there is nothing to classify");
                continue;
            }
            TaskDefinition task = effective(entry.get().task());
            byTask.computeIfAbsent(task.name(), k -> new ArrayList<>()).add(new Valid(i, r, doc, task));
        }
        long decodeStart = System.nanoTime();
        Map<String, Long> methodNanos = new LinkedHashMap<>();
        for (List<Valid> group : byTask.values()) {
            decodeGroup(group, out, processed, dead, methodNanos);
        }
        long decodeNanos = System.nanoTime() - decodeStart;
        List<ProducerRecord<byte[], SpecificRecord>> flat = new ArrayList<>();
        out.forEach(flat::addAll);
        return new Result(flat, processed, dead, decodeNanos, methodNanos);
    }

    /**
     * The outcome of a record whose processing threw on each of its {@code attempts}, alone: one dead letter of type
     * {@link #PROCESSING_FAILED} with the last exception, so that its partition moves on.
     */
    public Result processingFailed(ConsumerRecord<byte[], byte[]> r, RuntimeException last, int attempts) {
        List<ProducerRecord<byte[], SpecificRecord>> out = new ArrayList<>(1);
        Map<String, Integer> dead = new LinkedHashMap<>();
        reject(out, dead, r, PROCESSING_FAILED, "processing this record alone threw on all " + attempts
                + " attempts (labelscope.worker.record-attempts), the last time: " + describe(last));
        return new Result(out, List.of(), dead, 0, Map.of());
    }

    private TaskDefinition effective(TaskDefinition t) {
        return maxNewTokens.isPresent() ? t.withMaxNewTokens(maxNewTokens.getAsInt()) : t;
    }

    private String knownTasks() {
        List<String> names = tasks.entries().stream().filter(TaskRegistry.Entry::valid).map(TaskRegistry.Entry::name)
                .toList();
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    private void decodeGroup(List<Valid> group, List<List<ProducerRecord<byte[], SpecificRecord>>> out,
                             List<DocumentOutcome> processed, Map<String, Integer> dead, Map<String, Long> methodNanos) {
        TaskDefinition task = group.get(0).task();
        Optional<Models.Served> served = models.forTask(task.name());
        if (served.isEmpty()) {
            for (Valid v : group) {
                reject(out.get(v.index()), dead, v.record(), MODEL_FAILURE, "no model serves task '" + task.name()
                        + "' (" + models.describe() + "); name one in the task (\"model\") or start the worker with "
                        + "./labelscope up --model DIR");
            }
            return;
        }
        String modelName = served.get().name();
        int contextTokens = served.get().contextTokens();
        Bound bound;
        try {
            bound = bound(task, served.get());
        } catch (RuntimeException e) {
            LOG.errorf(e, "cannot prepare task '%s' on the model", task.name());
            for (Valid v : group) {
                reject(out.get(v.index()), dead, v.record(), MODEL_FAILURE, "the model could not prepare task '"
                        + task.name() + "' (instruction, demos and answer words): " + describe(e));
            }
            return;
        }
        // Context window policy: reject, never truncate (a cut text is a different document). Every method's
        // longest prompt must fit.
        List<Valid> fit = new ArrayList<>();
        for (Valid v : group) {
            String tooLong = tooLong(bound, task, v.doc().getText(), contextTokens);
            if (tooLong != null) {
                reject(out.get(v.index()), dead, v.record(), TOO_LONG, "document '" + v.doc().getId() + "' needs "
                        + tooLong + ", more than the model's context window of " + contextTokens
                        + " tokens (task '" + task.name() + "', model '" + modelName + "'); documents are never truncated");
            } else {
                fit.add(v);
            }
        }
        if (fit.isEmpty()) {
            return;
        }
        Outputs results = null;
        try {
            results = run(bound, fit.stream().map(v -> v.doc().getText()).toList(), methodNanos);
        } catch (RuntimeException e) {
            LOG.warnf("batch of %d '%s' documents failed in the model (%s); decoding them one by one", fit.size(),
                    task.name(), describe(e));
            dropDecoder(task.name());
        }
        for (int j = 0; j < fit.size(); j++) {
            Valid v = fit.get(j);
            Outputs one;
            int at = j;
            if (results != null) {
                one = results;
            } else {
                try {
                    one = run(bound(task, served.get()), List.of(v.doc().getText()), methodNanos);
                    at = 0;
                } catch (RuntimeException e) {
                    dropDecoder(task.name());
                    LOG.warnf("document '%s' failed in the model: %s", v.doc().getId(), describe(e));
                    reject(out.get(v.index()), dead, v.record(), MODEL_FAILURE, "the model failed on document '"
                            + v.doc().getId() + "' (task '" + task.name() + "', model '" + modelName + "'): " + describe(e));
                    continue;
                }
            }
            GenerationResult g = one.generations() == null ? null : one.generations().get(at);
            ProbeScorer.UnaryResult u = one.unary() == null ? null : one.unary().get(at);
            ProbeScorer.BinaryResult b = one.binary() == null ? null : one.binary().get(at);
            out.get(v.index()).addAll(records(v.doc(), task, modelName, g, u, b));
            processed.add(new DocumentOutcome(v.doc().getId(), task.name(), v.doc().getSubmittedAt().toEpochMilli(),
                    g == null ? 0 : g.steps().size(), g == null ? 0 : g.promptTokens(),
                    g == null ? 0 : g.generatedTokens(), u == null ? 0 : u.items().size(),
                    b == null ? 0 : b.pairs().size(), (u == null ? 0 : u.promptTokens()) + (b == null ? 0 : b.promptTokens())));
        }
    }

    /** What a task's document needs beyond the context window, in words, or null when every method fits. */
    private static String tooLong(Bound bound, TaskDefinition task, String text, int contextTokens) {
        if (bound.decoder() != null) {
            int prompt = bound.decoder().promptIds(text).length;
            if (prompt + task.maxNewTokens() > contextTokens) {
                return prompt + " prompt tokens + " + task.maxNewTokens() + " new tokens = "
                        + (prompt + task.maxNewTokens());
            }
        }
        for (TaskMethod m : new TaskMethod[] {TaskMethod.UNARY, TaskMethod.BINARY}) {
            if (bound.scorer() != null && task.methods().contains(m)) {
                int probe = bound.scorer().longestProbeTokens(m, text);
                if (probe > contextTokens) {
                    return probe + " tokens for its longest " + m.wireName() + " probe";
                }
            }
        }
        return null;
    }

    /** The per-method results of a list of documents (null for a method the task does not run). */
    private record Outputs(List<GenerationResult> generations, List<ProbeScorer.UnaryResult> unary,
                           List<ProbeScorer.BinaryResult> binary) {}

    private Outputs run(Bound bound, List<String> texts, Map<String, Long> methodNanos) {
        if (failText.isPresent() && texts.stream().anyMatch(t -> t.contains(failText.get()))) {
            throw new IllegalStateException("injected model failure (labelscope.worker.fault-injection-fail-text)");
        }
        List<TaskMethod> methods = bound.task().methods();
        List<GenerationResult> g = null;
        List<ProbeScorer.UnaryResult> u = null;
        List<ProbeScorer.BinaryResult> b = null;
        for (TaskMethod m : methods) {
            long t0 = System.nanoTime();
            switch (m) {
                case GENERATE -> g = bound.decoder().classify(texts);
                case UNARY -> u = bound.scorer().unary(texts);
                case BINARY -> b = bound.scorer().binary(texts);
            }
            methodNanos.merge(m.wireName(), System.nanoTime() - t0, Long::sum);
        }
        return new Outputs(g, u, b);
    }

    private Bound bound(TaskDefinition task, Models.Served model) {
        Bound b = decoders.get(task.name());
        if (b != null && b.task().equals(task) && b.model() == model) {
            return b;
        }
        if (b != null) {
            LOG.infof("task '%s' changed; rebuilding its prompt prefix", task.name());
            b.close();
            decoders.remove(task.name());
        }
        LabelDecoder d = task.methods().contains(TaskMethod.GENERATE)
                ? new LabelDecoder(model.model(), task, reusePrefix) : null;
        ProbeScorer s = null;
        try {
            if (task.methods().contains(TaskMethod.UNARY) || task.methods().contains(TaskMethod.BINARY)) {
                // Prefix sharing is what makes the breakdowns affordable; reuse-prefix=false still gives equal
                // logits, at the cost of one full prompt per probe.
                s = new ProbeScorer(model.model(), task, reusePrefix);
            }
        } catch (RuntimeException e) {
            if (d != null) {
                d.close();
            }
            throw e;
        }
        Bound nb = new Bound(task, model, d, s);
        decoders.put(task.name(), nb);
        return nb;
    }

    private void dropDecoder(String task) {
        Bound b = decoders.remove(task);
        if (b != null) {
            try {
                b.close();
            } catch (RuntimeException e) {
                LOG.debugf(e, "closing the decoder of '%s'", task);
            }
        }
    }

    /**
     * Every record of one document's run, all with the same run id and the run's method set: its label steps (in
     * step order) and generation, its unary probes, its binary probes (each only if the task runs that method).
     */
    static List<ProducerRecord<byte[], SpecificRecord>> records(Document doc, TaskDefinition task, String modelName,
                                                                GenerationResult g, ProbeScorer.UnaryResult u,
                                                                ProbeScorer.BinaryResult b) {
        String runId = RunIds.of(doc.getId(), modelName, task);
        String taskVersion = TaskFiles.version(task);
        List<String> methods = new ArrayList<>(task.breakdown().methodNames());
        byte[] key = doc.getId().getBytes(StandardCharsets.UTF_8);
        Instant now = Instant.now();
        List<ProducerRecord<byte[], SpecificRecord>> recs = new ArrayList<>();
        if (g != null) {
            List<String> scored = g.scoredLabels();
            for (LabelStepRecord s : g.steps()) {
                Map<String, Double> logits = new LinkedHashMap<>();
                Map<String, Double> probs = new LinkedHashMap<>();
                for (int i = 0; i < scored.size(); i++) {
                    logits.put(scored.get(i), s.rawLogits()[i]);
                    probs.put(scored.get(i), s.probabilities()[i]);
                }
                LabelStep step = LabelStep.newBuilder()
                        .setDocumentId(doc.getId()).setTask(task.name()).setModel(modelName).setRunId(runId)
                        .setTaskVersion(taskVersion).setStep(s.step()).setStepsTotal(g.steps().size())
                        .setGeneratedLabel(s.generatedLabel())
                        .setLogits(logits).setProbabilities(probs).setTokenIndex(s.tokenIndex()).setProducedAt(now)
                        .setLabels(task.labels()).build();
                recs.add(new ProducerRecord<>(Topics.LABEL_STEPS, key, step));
            }
            Generation gen = Generation.newBuilder()
                    .setDocumentId(doc.getId()).setTask(task.name()).setModel(modelName).setRunId(runId)
                    .setTaskVersion(taskVersion)
                    .setRawOutput(g.answer()).setParsedLabels(g.parsedLabels()).setStepsTotal(g.steps().size())
                    .setPromptTokens(g.promptTokens()).setOutputTokens(g.generatedTokens())
                    .setLatencyMs(g.latencyNanos() / 1_000_000).setStopReason(stopReason(g.stopReason()))
                    .setProducedAt(now).setLabels(task.labels()).setMethods(methods).build();
            recs.add(new ProducerRecord<>(Topics.GENERATIONS, key, gen));
        }
        if (u != null) {
            Map<String, UnaryLogits> probes = new LinkedHashMap<>();
            for (int i = 0; i < u.items().size(); i++) {
                probes.put(u.items().get(i), new UnaryLogits(u.reasonable()[i], u.unreasonable()[i]));
            }
            recs.add(new ProducerRecord<>(Topics.UNARY_PROBES, key, UnaryProbes.newBuilder()
                    .setDocumentId(doc.getId()).setTask(task.name()).setModel(modelName).setRunId(runId)
                    .setTaskVersion(taskVersion)
                    .setLabels(new ArrayList<>(task.labels())).setProbes(probes).setMethods(methods)
                    .setPromptTokens(u.promptTokens()).setLatencyMs(u.latencyNanos() / 1_000_000).setProducedAt(now)
                    .build()));
        }
        if (b != null) {
            List<PairLogits> pairs = new ArrayList<>(b.pairs().size());
            for (int i = 0; i < b.pairs().size(); i++) {
                ProbePrompts.Pair p = b.pairs().get(i);
                pairs.add(new PairLogits(b.items().get(p.a()), b.items().get(p.b()), b.logitA()[i], b.logitB()[i]));
            }
            recs.add(new ProducerRecord<>(Topics.BINARY_PROBES, key, BinaryProbes.newBuilder()
                    .setDocumentId(doc.getId()).setTask(task.name()).setModel(modelName).setRunId(runId)
                    .setTaskVersion(taskVersion)
                    .setLabels(new ArrayList<>(task.labels())).setPairs(pairs).setMethods(methods)
                    .setPromptTokens(b.promptTokens()).setLatencyMs(b.latencyNanos() / 1_000_000).setProducedAt(now)
                    .build()));
        }
        return recs;
    }

    static String stopReason(StopReason r) {
        return switch (r) {
            case EOS -> "eos";
            case MARKER -> "demo_marker";
            case MAX_TOKENS -> "max_new_tokens";
        };
    }

    private static void reject(List<ProducerRecord<byte[], SpecificRecord>> out, Map<String, Integer> dead,
                               ConsumerRecord<byte[], byte[]> r, String type, String reason) {
        out.add(new ProducerRecord<>(Topics.DEAD_LETTERS, r.key(),
                DeadLetters.of(r.topic(), r.partition(), r.offset(), r.key(), r.value(), type, reason, REJECTED_BY)));
        dead.merge(type, 1, Integer::sum);
        LOG.infof("dead letter %s-%d@%d (%s): %s", r.topic(), r.partition(), r.offset(), type, reason);
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    @Override
    public void close() {
        decoders.values().forEach(Bound::close);
        decoders.clear();
    }
}
