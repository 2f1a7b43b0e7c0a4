package io.labelscope.schemas;

import java.util.List;
import java.util.Optional;

import org.apache.avro.Schema;

/**
 * The topic contract in one place. Users subscribe to these names from their own code, so the names are the
 * public API: never rename one, add new topics instead.
 */
public final class Topics {

    public static final String DOCUMENTS = "documents";
    public static final String ANNOTATIONS = "annotations";
    public static final String LABEL_STEPS = "label-steps";
    public static final String GENERATIONS = "generations";
    public static final String UNARY_PROBES = "unary-probes";
    public static final String BINARY_PROBES = "binary-probes";
    public static final String DISTRIBUTIONS = "distributions";
    public static final String ALIGNMENT_METRICS = "alignment-metrics";
    public static final String SPIKINESS_METRICS = "spikiness-metrics";
    public static final String DEAD_LETTERS = "dead-letters";
    public static final String ANNOTATION_REQUESTS = "annotation-requests";
    /**
     * Registered task definitions (label set, prompt templates, demos, variants, output format, model settings):
     * compacted, key = task name, value = the task as JSON text in the format of
     * {@code io.labelscope.runtime.task.TaskFiles} (UTF-8, no registry), a tombstone removes the task. Not in
     * {@link #ALL}, whose values are Avro; inference workers read it fully at start and follow it.
     */
    public static final String TASKS = "tasks";

    /** Every public topic, in data-flow order, with the record its values carry. */
    public static final List<TopicSpec> ALL = List.of(
            new TopicSpec(DOCUMENTS, Document.getClassSchema(), false,
                    "input: texts to classify, key = document id"),
            new TopicSpec(ANNOTATIONS, Annotation.getClassSchema(), false,
                    "input: one annotator's labels for one document; re-sent = replace"),
            new TopicSpec(LABEL_STEPS, LabelStep.getClassSchema(), false,
                    "worker output: the label distribution at each label generation step"),
            new TopicSpec(GENERATIONS, Generation.getClassSchema(), false,
                    "worker output: one decoded answer per document"),
            new TopicSpec(UNARY_PROBES, UnaryProbes.getClassSchema(), false,
                    "worker output (tasks with the unary method): 'is the label reasonable' logits per label"),
            new TopicSpec(BINARY_PROBES, BinaryProbes.getClassSchema(), false,
                    "worker output (tasks with the binary method): option logits per label pair"),
            new TopicSpec(DISTRIBUTIONS, DocumentDistribution.getClassSchema(), true,
                    "the product: per-document distributions by method, aligned to annotators"),
            new TopicSpec(ALIGNMENT_METRICS, AlignmentMetric.getClassSchema(), true,
                    "mean NLL, L1 and example-F1 per task/model/method, all-time and windowed"),
            new TopicSpec(SPIKINESS_METRICS, SpikinessMetric.getClassSchema(), true,
                    "top-1/top-2/entropy and ranking statistics per step index"),
            new TopicSpec(ANNOTATION_REQUESTS, AnnotationRequest.getClassSchema(), true,
                    "which document most needs another annotator, per document and model (flip priority)"),
            new TopicSpec(DEAD_LETTERS, DeadLetter.getClassSchema(), false,
                    "every rejected input record, with its original bytes and a reason"));

    private Topics() {
    }

    public static Optional<TopicSpec> byName(String name) {
        return ALL.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /**
     * @param compacted the topic holds the latest value per key (a table), so consumers can start from scratch
     *                  and still see every document's current state
     */
    public record TopicSpec(String name, Schema valueSchema, boolean compacted, String purpose) {

        /** The registry subject of this topic's values (Confluent's TopicNameStrategy). */
        public String valueSubject() {
            return name + "-value";
        }
    }
}
