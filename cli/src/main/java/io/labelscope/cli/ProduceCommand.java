package io.labelscope.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code labelscope produce documents|annotations FILE}: the two inputs of the system, from files. */
@Command(name = "produce",
        mixinStandardHelpOptions = true,
        description = "Send documents or annotations from a CSV, TSV or JSON Lines file to their topic.",
        subcommands = {ProduceCommand.Documents.class, ProduceCommand.Annotations.class})
final class ProduceCommand {

    // For --help; the numbers are ExitCode's (cli/README.md lists them for every command).
    private static final String EXIT_OK = "0:every line was sent";
    private static final String EXIT_ERROR = "1:an unknown --task, a missing header column or a file that is not "
            + "UTF-8 (nothing was sent), or a send that failed";
    private static final String EXIT_USAGE = "2:bad options, or no such file";
    private static final String EXIT_UNREACHABLE = "3:the broker or the schema registry did not answer";
    private static final String EXIT_REJECTED = "4:some lines were rejected (listed); every other line was sent";

    /** What a row becomes: a keyed record, or the reason it was rejected. */
    sealed interface Converted {
        record Accepted(String key, SpecificRecord value) implements Converted {
        }

        record Rejected(String reason) implements Converted {
        }
    }

    /** Options and the send loop shared by both inputs. */
    abstract static class FileProducer implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        KafkaOptions kafka;

        @Parameters(paramLabel = "FILE", description = "CSV, TSV or JSON Lines file with a header row (CSV/TSV).")
        Path file;

        @Option(names = "--format", paramLabel = "csv|tsv|jsonl",
                description = "Input format (default: from the file name).")
        InputRows.Format format;

        @Option(names = "--rate", paramLabel = "PER_SECOND",
                description = "Send at most this many records per second (default: as fast as possible).")
        Double rate;

        @Option(names = "--no-check",
                description = "Send without checking tasks (and annotation labels) against the registered tasks.")
        boolean noCheck;

        abstract String topic();

        abstract String noun();

        /** The header columns a CSV/TSV file must have. */
        abstract List<String> requiredColumns();

        /** The {@code --task} given, for rows without a task column. */
        abstract String defaultTask();

        /** @param tasks the registered tasks, to check the row's task (and labels) against */
        abstract Converted convert(InputRows.Row row, RegisteredTasks tasks);

        /** The rows that become records, and the line number and reason of every one that does not. */
        record Conversion(List<Converted.Accepted> accepted, Map<Long, String> rejected) {
        }

        Conversion convertAll(InputRows.Contents contents, RegisteredTasks tasks) {
            Map<Long, String> rejected = new LinkedHashMap<>();
            contents.unreadable().forEach(u -> rejected.put(u.line(), u.reason()));
            List<Converted.Accepted> accepted = new ArrayList<>();
            for (InputRows.Row row : contents.rows()) {
                Converted converted = convert(row, tasks);
                if (converted instanceof Converted.Rejected r) {
                    rejected.put(row.line(), r.reason());
                } else {
                    accepted.add((Converted.Accepted) converted);
                }
            }
            return new Conversion(accepted, rejected);
        }

        @Override
        public Integer call() throws Exception {
            if (rate != null && !(rate > 0)) {
                throw new Labelscope.UserError("--rate must be positive, was " + rate, ExitCode.USAGE);
            }
            // The file first (its problems need no platform), then the services, then the rows against the tasks.
            InputRows.Contents contents = InputRows.read(file, InputRows.formatOf(file, format));
            requireColumns(contents.header());
            kafka.requireBroker();
            kafka.requireRegistry();
            RegisteredTasks tasks = noCheck ? RegisteredTasks.unchecked() : RegisteredTasks.read(kafka);
            tasks.requireKnown(defaultTask());
            Conversion conversion = convertAll(contents, tasks);
            Map<Long, String> rejected = conversion.rejected();
            List<Converted.Accepted> accepted = conversion.accepted();

            PrintWriter err = spec.commandLine().getErr();
            AtomicLong acknowledged = new AtomicLong();
            AtomicReference<Exception> failure = new AtomicReference<>();
            Map<String, Object> config = new LinkedHashMap<>(AvroSerdeConfig.producer(kafka.registryUrl()));
            // Bounded waits if the broker goes away after the check (the defaults block for a minute, then two);
            // --kafka-config may set others.
            config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
            config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
            config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
            config.putAll(kafka.clientSettings());
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            config.put(ProducerConfig.ACKS_CONFIG, "all");
            Progress progress = new Progress(err, "producing " + noun(), accepted.size());
            long start = System.nanoTime();
            try (KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(config)) {
                for (int i = 0; i < accepted.size() && failure.get() == null; i++) {
                    pace(start, i);
                    Converted.Accepted record = accepted.get(i);
                    producer.send(new ProducerRecord<>(topic(), record.key(), record.value()), (metadata, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, e);
                        } else {
                            acknowledged.incrementAndGet();
                        }
                    });
                    progress.update(i + 1);
                }
                producer.flush();
            }
            progress.finish(acknowledged.get());
            if (failure.get() != null) {
                throw new Labelscope.UserError("sending to " + topic() + " failed after " + acknowledged.get()
                        + " records: " + failure.get().getMessage(), ExitCode.ERROR);
            }
            PrintWriter out = spec.commandLine().getOut();
            out.printf("sent %d %s to %s%n", acknowledged.get(), noun(), topic());
            if (!rejected.isEmpty()) {
                out.printf("rejected %d line(s) of %s:%n", rejected.size(), file);
                rejected.entrySet().stream().limit(50)
                        .forEach(e -> out.printf("  line %d: %s%n", e.getKey(), e.getValue()));
                if (rejected.size() > 50) {
                    out.printf("  … and %d more%n", rejected.size() - 50);
                }
            }
            out.flush();
            return rejected.isEmpty() ? ExitCode.OK : ExitCode.LINES_REJECTED;
        }

        /** A CSV/TSV header without a required column fails once, here, instead of rejecting every row. */
        private void requireColumns(List<String> header) {
            if (header == null) {
                return;
            }
            List<String> missing = requiredColumns().stream().filter(c -> !header.contains(c))
                    .map(c -> "'" + c + "'").toList();
            if (!missing.isEmpty()) {
                throw new Labelscope.UserError(file + " has no " + String.join(", ", missing)
                        + (missing.size() == 1 ? " column" : " columns") + " in its header row, which has "
                        + (header.isEmpty() ? "no columns" : "the columns " + String.join(", ", header))
                        + " (required: " + String.join(", ", requiredColumns()) + ")", ExitCode.ERROR);
            }
        }

        private void pace(long startNanos, int sent) throws InterruptedException {
            if (rate == null) {
                return;
            }
            long due = startNanos + (long) (sent / rate * 1e9);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
        }

        /** The row's {@code task} column, else the {@code --task} given; a missing or unknown task is a problem. */
        static String taskOf(InputRows.Row row, String defaultTask, RegisteredTasks tasks, List<String> problems) {
            String rowTask = row.text("task");
            String taskName = rowTask != null && !rowTask.isBlank() ? rowTask.strip() : defaultTask;
            String taskProblem = taskName == null ? "no task (add a task column or --task)"
                    : tasks.taskProblem(taskName);
            if (taskProblem != null) {
                problems.add(taskProblem);
            }
            return taskName;
        }

        static String required(InputRows.Row row, String column, List<String> problems) {
            String value = row.text(column);
            if (value == null || value.isBlank()) {
                problems.add("missing " + column);
                return null;
            }
            return value.strip();
        }
    }

    @Command(name = "documents", mixinStandardHelpOptions = true,
            description = {"Send documents to the `documents` topic. Columns: id, text (required); task "
                    + "(optional, else --task); every other column goes into the document's metadata.",
                    "Rows without an id or text, repeated ids and rows of a task that is not registered are "
                            + "rejected and listed by line number; the other rows are sent."},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {EXIT_OK, EXIT_ERROR, EXIT_USAGE,
                    EXIT_UNREACHABLE, EXIT_REJECTED})
    static final class Documents extends FileProducer {
        @Option(names = "--task", paramLabel = "TASK",
                description = "Task of every document without a `task` column (e.g. goemotions).")
        String task;

        private final Set<String> seen = new HashSet<>();

        @Override
        String topic() {
            return Topics.DOCUMENTS;
        }

        @Override
        String noun() {
            return "documents";
        }

        @Override
        List<String> requiredColumns() {
            return List.of("id", "text");
        }

        @Override
        String defaultTask() {
            return task;
        }

        @Override
        Converted convert(InputRows.Row row, RegisteredTasks tasks) {
            List<String> problems = new ArrayList<>();
            String id = required(row, "id", problems);
            String text = required(row, "text", problems);
            String taskName = taskOf(row, task, tasks, problems);
            if (id != null && !seen.add(id)) {
                problems.add("id " + id + " appears earlier in the file");
            }
            if (!problems.isEmpty()) {
                return new Converted.Rejected(String.join("; ", problems));
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            row.fields().forEach((k, v) -> {
                if (!Set.of("id", "text", "task").contains(k) && v != null && !v.isNull()) {
                    metadata.put(k, v.isTextual() ? v.textValue() : v.toString());
                }
            });
            return new Converted.Accepted(id, Document.newBuilder().setId(id).setTask(taskName).setText(text)
                    .setMetadata(metadata).setSubmittedAt(Instant.now()).build());
        }
    }

    @Command(name = "annotations", mixinStandardHelpOptions = true,
            description = {"Send annotations to the `annotations` topic. Columns: document_id, annotator_id, labels "
                    + "(required); task (optional, else --task).",
                    "labels: a JSON list, or labels separated by ; , or | — empty means the annotator chose no "
                            + "label (it still counts). Re-sending an annotator's labels replaces them.",
                    "Rows naming a label outside their task's label set (compared trimmed and lower-cased; none "
                            + "is allowed) or a task that is not registered are rejected and listed by line number; "
                            + "the other rows are sent."},
            exitCodeListHeading = "%nExit codes:%n", exitCodeList = {EXIT_OK, EXIT_ERROR, EXIT_USAGE,
                    EXIT_UNREACHABLE, EXIT_REJECTED})
    static final class Annotations extends FileProducer {
        private static final ObjectMapper JSON = new ObjectMapper();

        @Option(names = "--task", paramLabel = "TASK", description = "Task of every row without a `task` column.")
        String task;

        @Override
        String topic() {
            return Topics.ANNOTATIONS;
        }

        @Override
        String noun() {
            return "annotations";
        }

        @Override
        List<String> requiredColumns() {
            return List.of("document_id", "annotator_id", "labels");
        }

        @Override
        String defaultTask() {
            return task;
        }

        @Override
        Converted convert(InputRows.Row row, RegisteredTasks tasks) {
            List<String> problems = new ArrayList<>();
            String documentId = required(row, "document_id", problems);
            String annotatorId = required(row, "annotator_id", problems);
            String taskName = taskOf(row, task, tasks, problems);
            List<String> labels = null;
            if (!row.fields().containsKey("labels")) {
                problems.add("missing labels column");
            } else {
                try {
                    labels = labels(row.fields().get("labels"));
                    String labelProblem = tasks.labelProblem(taskName, labels);
                    if (labelProblem != null) {
                        problems.add(labelProblem);
                    }
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                }
            }
            if (!problems.isEmpty()) {
                return new Converted.Rejected(String.join("; ", problems));
            }
            return new Converted.Accepted(documentId, Annotation.newBuilder().setDocumentId(documentId)
                    .setTask(taskName).setAnnotatorId(annotatorId).setLabels(labels)
                    .setAnnotatedAt(Instant.now()).build());
        }

        static List<String> labels(JsonNode value) {
            List<String> labels = new ArrayList<>();
            if (value == null || value.isNull()) {
                return labels;
            }
            JsonNode list = value;
            if (value.isTextual()) {
                String text = value.textValue().strip();
                if (text.startsWith("[")) {
                    try {
                        list = JSON.readTree(text);
                    } catch (Exception e) {
                        throw new IllegalArgumentException("labels is not a valid JSON list: " + text);
                    }
                } else {
                    for (String part : text.split("[;,|]")) {
                        if (!part.isBlank()) {
                            labels.add(part.strip());
                        }
                    }
                    return labels;
                }
            }
            if (!list.isArray()) {
                throw new IllegalArgumentException("labels must be a list, was " + value);
            }
            for (JsonNode label : list) {
                if (!label.isTextual() || label.textValue().isBlank()) {
                    throw new IllegalArgumentException("labels must be non-empty strings, found " + label);
                }
                labels.add(label.textValue().strip());
            }
            return labels;
        }
    }
}
