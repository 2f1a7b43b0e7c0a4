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
import io.labelscope.runtime.decode.StopReason;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.DeadLetters;
import io.labelscope.schemas.serde.Decoded;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;

/**
 * Turns a batch of consumed document records into the records to produce: for each valid document its label steps
 * and one generation (decoded together per task, with the task's shared-prefix cache), for each rejected one a
 * dead letter with the original bytes and a reason. Never throws for a bad document; only infrastructure failures
 * (none here: producing happens in the loop) stop a batch. Owned by one thread.
 */
public final class BatchProcessor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BatchProcessor.class);
    public static final String REJECTED_BY = "inference-worker";

    /** Dead-letter error types. */
    public static final String UNDECODABLE = "undecodable";
    public static final String UNKNOWN_TASK = "unknown_task";
    public static final String EMPTY_TEXT = "empty_text";
    public static final String TOO_LONG = "too_long";
    public static final String MODEL_FAILURE = "model_failure";

    /** What one document became. */
    public record DocumentOutcome(String documentId, String task, long submittedAtMillis, int steps,
                                  int promptTokens, int generatedTokens) {}

    /** The records to produce for a batch, in input order, and what happened to each input. */
    public record Result(List<ProducerRecord<byte[], SpecificRecord>> records, List<DocumentOutcome> processed,
                         Map<String, Integer> deadLetters, long decodeNanos) {}

    private final Models models;
    private final OptionalInt maxNewTokens;
    private final boolean reusePrefix;
    private final TaskRegistry tasks;
    private final FailSafeAvroDeserializer<Document> documents;
    private final Optional<String> failText;
    private final Map<String, Bound> decoders = new HashMap<>();

    private record Bound(TaskDefinition task, Models.Served model, LabelDecoder decoder) {}

    private record Valid(int index, ConsumerRecord<byte[], byte[]> record, Document doc, TaskDefinition task) {}

    public BatchProcessor(Models models, OptionalInt maxNewTokens, boolean reusePrefix, TaskRegistry tasks, FailSafeAvroDeserializer<Document> documents,
                          Optional<String> failText) {
        this.models = models;
        this.maxNewTokens = maxNewTokens;
        this.reusePrefix = reusePrefix;
        this.tasks = tasks;
        this.documents = documents;
        this.failText = failText.filter(s -> !s.isEmpty());
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
                reject(out.get(i), dead, r, UNDECODABLE, u.reason());
                continue;
            }
            Document doc = ((Decoded.Ok<Document>) d).value();
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
        for (List<Valid> group : byTask.values()) {
            decodeGroup(group, out, processed, dead);
        }
        long decodeNanos = System.nanoTime() - decodeStart;
        List<ProducerRecord<byte[], SpecificRecord>> flat = new ArrayList<>();
        out.forEach(flat::addAll);
        return new Result(flat, processed, dead, decodeNanos);
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
                             List<DocumentOutcome> processed, Map<String, Integer> dead) {
        TaskDefinition task = group.get(0).task();
        Optional<Models.Served> served = models.forTask(task.name());
        if (served.isEmpty()) {
            for (Valid v : group) {
                reject(out.get(v.index()), dead, v.record(), MODEL_FAILURE, "no model serves task '" + task.name()
                        + "': this worker has one model per task (" + models.describe() + ")");
            }
            return;
        }
        String modelName = served.get().name();
        int contextTokens = served.get().contextTokens();
        LabelDecoder decoder;
        try {
            decoder = decoder(task, served.get());
        } catch (RuntimeException e) {
            LOG.errorf(e, "cannot prepare task '%s' on the model", task.name());
            for (Valid v : group) {
                reject(out.get(v.index()), dead, v.record(), MODEL_FAILURE, "the model could not prepare task '"
                        + task.name() + "' (instruction and demos): " + describe(e));
            }
            return;
        }
        // Context window policy: reject, never truncate (a cut text is a different document).
        List<Valid> fit = new ArrayList<>();
        for (Valid v : group) {
            int prompt = decoder.promptIds(v.doc().getText()).length;
            if (prompt + task.maxNewTokens() > contextTokens) {
                reject(out.get(v.index()), dead, v.record(), TOO_LONG, "document '" + v.doc().getId() + "' needs "
                        + prompt + " prompt tokens + " + task.maxNewTokens() + " new tokens = "
                        + (prompt + task.maxNewTokens()) + ", more than the model's context window of " + contextTokens
                        + " tokens (task '" + task.name() + "', model '" + modelName + "'); documents are never truncated");
            } else {
                fit.add(v);
            }
        }
        if (fit.isEmpty()) {
            return;
        }
        List<GenerationResult> results = null;
        try {
            results = classify(decoder, fit.stream().map(v -> v.doc().getText()).toList());
        } catch (RuntimeException e) {
            LOG.warnf("batch of %d '%s' documents failed in the model (%s); decoding them one by one", fit.size(),
                    task.name(), describe(e));
            dropDecoder(task.name());
        }
        for (int j = 0; j < fit.size(); j++) {
            Valid v = fit.get(j);
            GenerationResult g;
            if (results != null) {
                g = results.get(j);
            } else {
                try {
                    g = classify(decoder(task, served.get()), List.of(v.doc().getText())).get(0);
                } catch (RuntimeException e) {
                    dropDecoder(task.name());
                    LOG.warnf("document '%s' failed in the model: %s", v.doc().getId(), describe(e));
                    reject(out.get(v.index()), dead, v.record(), MODEL_FAILURE, "the model failed on document '"
                            + v.doc().getId() + "' (task '" + task.name() + "', model '" + modelName + "'): " + describe(e));
                    continue;
                }
            }
            out.get(v.index()).addAll(records(v.doc(), task, modelName, g));
            processed.add(new DocumentOutcome(v.doc().getId(), task.name(), v.doc().getSubmittedAt().toEpochMilli(),
                    g.steps().size(), g.promptTokens(), g.generatedTokens()));
        }
    }

    private List<GenerationResult> classify(LabelDecoder decoder, List<String> texts) {
        if (failText.isPresent() && texts.stream().anyMatch(t -> t.contains(failText.get()))) {
            throw new IllegalStateException("injected model failure (labelscope.worker.fault-injection-fail-text)");
        }
        return decoder.classify(texts);
    }

    private LabelDecoder decoder(TaskDefinition task, Models.Served model) {
        Bound b = decoders.get(task.name());
        if (b != null && b.task().equals(task) && b.model() == model) {
            return b.decoder();
        }
        if (b != null) {
            LOG.infof("task '%s' changed; rebuilding its prompt prefix", task.name());
            b.decoder().close();
            decoders.remove(task.name());
        }
        LabelDecoder d = new LabelDecoder(model.model(), task, reusePrefix);
        decoders.put(task.name(), new Bound(task, model, d));
        return d;
    }

    private void dropDecoder(String task) {
        Bound b = decoders.remove(task);
        if (b != null) {
            try {
                b.decoder().close();
            } catch (RuntimeException e) {
                LOG.debugf(e, "closing the decoder of '%s'", task);
            }
        }
    }

    /** The label steps (in step order) then the generation of one document. */
    static List<ProducerRecord<byte[], SpecificRecord>> records(Document doc, TaskDefinition task, String modelName,
                                                                GenerationResult g) {
        String runId = RunIds.of(doc.getId(), modelName, task);
        byte[] key = doc.getId().getBytes(StandardCharsets.UTF_8);
        Instant now = Instant.now();
        List<String> scored = g.scoredLabels();
        List<ProducerRecord<byte[], SpecificRecord>> recs = new ArrayList<>(g.steps().size() + 1);
        for (LabelStepRecord s : g.steps()) {
            Map<String, Double> logits = new LinkedHashMap<>();
            Map<String, Double> probs = new LinkedHashMap<>();
            for (int i = 0; i < scored.size(); i++) {
                logits.put(scored.get(i), s.rawLogits()[i]);
                probs.put(scored.get(i), s.probabilities()[i]);
            }
            LabelStep step = LabelStep.newBuilder()
                    .setDocumentId(doc.getId()).setTask(task.name()).setModel(modelName).setRunId(runId)
                    .setStep(s.step()).setStepsTotal(g.steps().size()).setGeneratedLabel(s.generatedLabel())
                    .setLogits(logits).setProbabilities(probs).setTokenIndex(s.tokenIndex()).setProducedAt(now)
                    .setLabels(task.labels()).build();
            recs.add(new ProducerRecord<>(Topics.LABEL_STEPS, key, step));
        }
        Generation gen = Generation.newBuilder()
                .setDocumentId(doc.getId()).setTask(task.name()).setModel(modelName).setRunId(runId)
                .setRawOutput(g.answer()).setParsedLabels(g.parsedLabels()).setStepsTotal(g.steps().size())
                .setPromptTokens(g.promptTokens()).setOutputTokens(g.generatedTokens())
                .setLatencyMs(g.latencyNanos() / 1_000_000).setStopReason(stopReason(g.stopReason()))
                .setProducedAt(now).setLabels(task.labels()).build();
        recs.add(new ProducerRecord<>(Topics.GENERATIONS, key, gen));
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
        decoders.values().forEach(b -> b.decoder().close());
        decoders.clear();
    }
}
