package io.labelscope.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Callable;

import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.parquet.avro.AvroParquetWriter;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.xerial.snappy.Snappy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import io.labelscope.math.HumanDistribution;
import io.labelscope.math.Labels;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.MethodResult;
import io.labelscope.schemas.PairLogits;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.UnaryProbes;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.Decoded;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code labelscope export distributions|steps}: the live system's results as a file for offline tools. Topics are
 * read with {@code read_committed} from the beginning up to their end offsets at the start (so the export is a
 * consistent snapshot and ends), keeping the latest record per document and model (distributions) or per
 * document, model, run and step (steps).
 *
 * <p>Tables are in long form, one row per label, so every task has the same columns (see cli/README.md).
 * {@code --as eval} instead writes the input of {@code labelscope eval} (docs/eval-format.md): the steps, answer,
 * probes and accepted annotations behind each document's latest distribution.
 */
@Command(name = "export",
        mixinStandardHelpOptions = true,
        description = {"Write a task's distributions or label steps to a file (csv, jsonl or parquet; one row per "
                + "document, method and label, or per step and label), or the distributions' inputs in the format "
                + "of `labelscope eval` (--as eval).",
                "Reads the topics from the beginning to their current end (read_committed) and keeps the latest "
                        + "record per document and model (per document, model, run and step for steps)."})
final class ExportCommand implements Callable<Integer> {

    /** What can be exported. */
    enum What { distributions, steps }

    /** Table formats. */
    enum Format { csv, jsonl, parquet }

    /** Longest wait for a topic to deliver the records up to its end offsets. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(60);

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;

    @Mixin
    KafkaOptions kafka;

    @Parameters(paramLabel = "WHAT", description = "distributions or steps")
    What what;

    @Option(names = "--task", required = true, description = "The task to export.")
    String task;

    @Option(names = "--model", description = "Only this model (default: every model of the task).")
    String model;

    @ArgGroup(multiplicity = "1")
    Output output;

    /** Exactly one of a table format and {@code --as eval}. */
    static final class Output {
        @Option(names = "--format", paramLabel = "csv|jsonl|parquet", description = "Table format.")
        Format format;

        @Option(names = "--as", paramLabel = "eval",
                description = "eval: the input file of `labelscope eval` (distributions only).")
        String as;
    }

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "Output file (replaced).")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (output.as != null && !output.as.equals("eval")) {
            throw new Labelscope.UserError("--as must be eval, was '" + output.as + "'", 2);
        }
        if (output.as != null && what != What.distributions) {
            throw new Labelscope.UserError("--as eval exports distributions (their steps are part of it)", 2);
        }
        if (out.getParent() != null && !Files.isDirectory(out.getParent())) {
            throw new Labelscope.UserError("no such directory: " + out.getParent(), 2);
        }
        kafka.requireBroker();
        kafka.requireRegistry();
        PrintWriter console = spec.commandLine().getOut();
        Map<RunKey, DocumentDistribution> distributions = what == What.distributions ? latestDistributions() : null;
        if (output.as != null) {
            ObjectNode eval = evalInput(distributions);
            JSON.writerWithDefaultPrettyPrinter().writeValue(out.toFile(), eval);
            console.printf("wrote %d documents of task '%s' to %s (input of labelscope eval)%n",
                    eval.get("documents").size(), task, out);
            console.flush();
            return 0;
        }
        Table table = what == What.distributions ? distributionTable(distributions) : stepTable(latestSteps());
        switch (output.format) {
            case csv -> writeCsv(table, out);
            case jsonl -> writeJsonLines(table, out);
            case parquet -> writeParquet(table, out);
        }
        console.printf("wrote %d rows (%s of task '%s') to %s%n", table.rows().size(), what, task, out);
        console.flush();
        return 0;
    }

    // ---- reading ---------------------------------------------------------------------------------------------

    /** A document's run of one model: the unit distributions and the eval export are about. */
    record RunKey(String documentId, String model) implements Comparable<RunKey> {
        @Override
        public int compareTo(RunKey o) {
            int c = documentId.compareTo(o.documentId);
            return c != 0 ? c : model.compareTo(o.model);
        }
    }

    private boolean selected(String recordTask, String recordModel) {
        return task.equals(recordTask) && (model == null || model.equals(recordModel));
    }

    private Map<RunKey, DocumentDistribution> latestDistributions() {
        Map<RunKey, DocumentDistribution> latest = new TreeMap<>();
        for (Object v : readToEnd(Topics.DISTRIBUTIONS)) {
            if (v instanceof DocumentDistribution d && selected(d.getTask(), d.getModel())) {
                latest.put(new RunKey(d.getDocumentId(), d.getModel()), d);
            }
        }
        return latest;
    }

    /** Latest record per document, model, run and step, in that order. */
    private List<LabelStep> latestSteps() {
        Map<String, LabelStep> latest = new TreeMap<>();
        for (Object v : readToEnd(Topics.LABEL_STEPS)) {
            if (v instanceof LabelStep s && selected(s.getTask(), s.getModel())) {
                latest.put(String.join("\u0000", s.getDocumentId(), s.getModel(), s.getRunId(),
                        String.format("%09d", s.getStep())), s);
            }
        }
        return new ArrayList<>(latest.values());
    }

    /**
     * Every decodable value of {@code topic} from the beginning to the end offsets taken at the start, partition
     * by partition in offset order (a document's records share a partition, so "later" is well defined per key).
     */
    private List<Object> readToEnd(String topic) {
        return readToEnd(kafka, topic);
    }

    /** {@link #readToEnd(String)} for any command with Kafka options (also {@code annotate next}). */
    static List<Object> readToEnd(KafkaOptions kafka, String topic) {
        Map<String, Object> config = new LinkedHashMap<>(AvroSerdeConfig.consumer(kafka.registryUrl()));
        config.putAll(kafka.clientSettings());
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "labelscope-export-" + UUID.randomUUID());
        List<Object> values = new ArrayList<>();
        try (KafkaConsumer<String, Decoded<Object>> consumer = new KafkaConsumer<>(config)) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(15));
            if (infos == null || infos.isEmpty()) {
                throw new Labelscope.UserError("topic " + topic + " does not exist on " + kafka.bootstrapServers()
                        + " (is the platform up?)", 1);
            }
            List<TopicPartition> partitions = infos.stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // With read_committed these are the last stable offsets: nothing of an open transaction is exported.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(15));
            Map<TopicPartition, List<Object>> byPartition = new LinkedHashMap<>();
            partitions.forEach(p -> byPartition.put(p, new ArrayList<>()));
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new Labelscope.UserError("timed out after " + READ_TIMEOUT.toSeconds()
                            + " s reading topic " + topic + " up to its end offsets " + end, 1);
                }
                for (ConsumerRecord<String, Decoded<Object>> r : consumer.poll(Duration.ofMillis(200))) {
                    TopicPartition p = new TopicPartition(r.topic(), r.partition());
                    if (r.offset() < end.get(p) && r.value() instanceof Decoded.Ok<Object> ok) {
                        byPartition.get(p).add(ok.value());
                    }
                }
            }
            byPartition.values().forEach(values::addAll);
        } catch (KafkaException e) {
            throw new Labelscope.UserError("cannot read topic " + topic + " at " + kafka.bootstrapServers() + ": "
                    + e.getMessage(), 1);
        }
        return values;
    }

    // ---- tables ----------------------------------------------------------------------------------------------

    enum Type { STRING, INT, LONG, DOUBLE, BOOLEAN, TIMESTAMP }

    record Column(String name, Type type, boolean nullable) {}

    /** Rows of values in column order; a timestamp is an {@link Instant}. */
    record Table(String name, List<Column> columns, List<Object[]> rows) {}

    static final List<Column> DISTRIBUTION_COLUMNS = List.of(
            new Column("document_id", Type.STRING, false), new Column("task", Type.STRING, false),
            new Column("model", Type.STRING, false), new Column("run_id", Type.STRING, false),
            new Column("version", Type.LONG, false), new Column("updated_at", Type.TIMESTAMP, false),
            new Column("annotators", Type.INT, false), new Column("method", Type.STRING, false),
            new Column("label", Type.STRING, false), new Column("p", Type.DOUBLE, false),
            new Column("human", Type.DOUBLE, true), new Column("predicted", Type.BOOLEAN, false),
            new Column("nll", Type.DOUBLE, true), new Column("l1", Type.DOUBLE, true),
            new Column("example_f1", Type.DOUBLE, true));

    static final List<Column> STEP_COLUMNS = List.of(
            new Column("document_id", Type.STRING, false), new Column("task", Type.STRING, false),
            new Column("model", Type.STRING, false), new Column("run_id", Type.STRING, false),
            new Column("step", Type.INT, false), new Column("steps_total", Type.INT, false),
            new Column("generated_label", Type.STRING, true), new Column("token_index", Type.INT, false),
            new Column("produced_at", Type.TIMESTAMP, false), new Column("label", Type.STRING, false),
            new Column("logit", Type.DOUBLE, false), new Column("probability", Type.DOUBLE, false));

    /** One row per document, model, method and label, methods and labels in the record's order. */
    static Table distributionTable(Map<RunKey, DocumentDistribution> distributions) {
        List<Object[]> rows = new ArrayList<>();
        for (DocumentDistribution d : distributions.values()) {
            for (Map.Entry<String, MethodResult> m : d.getMethods().entrySet()) {
                MethodResult r = m.getValue();
                for (String label : d.getLabels()) {
                    Double p = r.getDistribution().get(label);
                    if (p == null) {
                        continue;
                    }
                    rows.add(new Object[] {d.getDocumentId(), d.getTask(), d.getModel(), d.getRunId(),
                            d.getVersion(), d.getUpdatedAt(), d.getAnnotators(), m.getKey(), label, p,
                            d.getHuman() == null ? null : d.getHuman().get(label), r.getPredicted().contains(label),
                            r.getNll(), r.getL1(), r.getExampleF1()});
                }
            }
        }
        return new Table("DistributionRow", DISTRIBUTION_COLUMNS, rows);
    }

    /** One row per step and label (the task's labels in order, then none). */
    static Table stepTable(List<LabelStep> steps) {
        List<Object[]> rows = new ArrayList<>();
        for (LabelStep s : steps) {
            for (String label : stepLabels(s)) {
                Double logit = s.getLogits().get(label);
                if (logit == null) {
                    continue;
                }
                rows.add(new Object[] {s.getDocumentId(), s.getTask(), s.getModel(), s.getRunId(), s.getStep(),
                        s.getStepsTotal(), s.getGeneratedLabel(), s.getTokenIndex(), s.getProducedAt(), label,
                        logit, s.getProbabilities().get(label)});
            }
        }
        return new Table("StepRow", STEP_COLUMNS, rows);
    }

    /** The record's label set and none, or (records from before the label set was carried) its logits' keys. */
    private static List<String> stepLabels(LabelStep s) {
        if (s.getLabels().isEmpty()) {
            return new ArrayList<>(new TreeSet<>(s.getLogits().keySet()));
        }
        List<String> labels = new ArrayList<>(s.getLabels());
        labels.add(Labels.NONE);
        return labels;
    }

    static void writeCsv(Table table, Path file) throws IOException {
        CsvSchema.Builder schema = CsvSchema.builder().setUseHeader(true);
        table.columns().forEach(c -> schema.addColumn(c.name()));
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
             var seq = new CsvMapper().writer(schema.build()).writeValues(w)) {
            for (Object[] row : table.rows()) {
                Object[] text = new Object[row.length];
                for (int i = 0; i < row.length; i++) {
                    // Empty cell = null; timestamps as ISO-8601 (UTC).
                    text[i] = row[i] == null ? "" : row[i].toString();
                }
                seq.write(text);
            }
        }
    }

    static void writeJsonLines(Table table, Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Object[] row : table.rows()) {
                ObjectNode n = JSON.createObjectNode();
                for (int i = 0; i < row.length; i++) {
                    n.set(table.columns().get(i).name(), AvroJson.of(row[i]));
                }
                w.write(JSON.writeValueAsString(n));
                w.write('\n');
            }
        }
    }

    /** The table's Avro schema for Parquet: timestamps as timestamp-millis, nullable columns as unions. */
    static Schema avroSchema(Table table) {
        SchemaBuilder.FieldAssembler<Schema> fields = SchemaBuilder.record(table.name())
                .namespace("io.labelscope.export").fields();
        for (Column c : table.columns()) {
            Schema type = switch (c.type()) {
                case STRING -> Schema.create(Schema.Type.STRING);
                case INT -> Schema.create(Schema.Type.INT);
                case LONG -> Schema.create(Schema.Type.LONG);
                case DOUBLE -> Schema.create(Schema.Type.DOUBLE);
                case BOOLEAN -> Schema.create(Schema.Type.BOOLEAN);
                case TIMESTAMP -> LogicalTypes.timestampMillis().addToSchema(Schema.create(Schema.Type.LONG));
            };
            if (c.nullable()) {
                fields = fields.name(c.name()).type(Schema.createUnion(Schema.create(Schema.Type.NULL), type))
                        .withDefault(null);
            } else {
                fields = fields.name(c.name()).type(type).noDefault();
            }
        }
        return fields.endRecord();
    }

    static void writeParquet(Table table, Path file) throws IOException {
        Schema schema = avroSchema(table);
        // LocalOutputFile, PlainParquetConfiguration, a named data model and our Snappy pages: plain java.nio, no Hadoop
        // class is loaded (the tests run without Hadoop on the classpath).
        try (ParquetWriter<GenericRecord> writer = AvroParquetWriter.<GenericRecord>builder(new LocalOutputFile(file))
                .withSchema(schema)
                // Named here, or parquet-avro looks it up through a Hadoop Configuration.
                .withDataModel(GenericData.get())
                .withConf(new PlainParquetConfiguration())
                .withCompressionCodec(CompressionCodecName.SNAPPY)
                .withCodecFactory(SnappyPages.FACTORY)
                .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
                .build()) {
            for (Object[] row : table.rows()) {
                GenericRecord record = new GenericData.Record(schema);
                for (int i = 0; i < row.length; i++) {
                    record.put(i, row[i] instanceof Instant t ? t.toEpochMilli() : row[i]);
                }
                writer.write(record);
            }
        }
    }

    /**
     * Snappy page compression for the writer. parquet-hadoop's own codec factory builds every codec, even
     * "uncompressed", through Hadoop's codec classes; a Parquet SNAPPY page is one raw Snappy block of the page
     * bytes, which snappy-java (already here for Kafka) writes directly. Writing only: export never reads Parquet.
     */
    static final class SnappyPages implements CompressionCodecFactory.BytesInputCompressor {
        static final CompressionCodecFactory FACTORY = new CompressionCodecFactory() {
            @Override
            public BytesInputCompressor getCompressor(CompressionCodecName codec) {
                if (codec != CompressionCodecName.SNAPPY) {
                    throw new IllegalArgumentException("only SNAPPY pages are written, not " + codec);
                }
                return new SnappyPages();
            }

            @Override
            public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
                throw new UnsupportedOperationException("export writes Parquet, it does not read it");
            }

            @Override
            public void release() {
            }
        };

        @Override
        public BytesInput compress(BytesInput page) throws IOException {
            return BytesInput.from(Snappy.compress(page.toByteArray()));
        }

        @Override
        public CompressionCodecName getCodecName() {
            return CompressionCodecName.SNAPPY;
        }

        @Override
        public void release() {
        }
    }

    // ---- eval input ------------------------------------------------------------------------------------------

    /**
     * The eval input behind the latest distributions: for each, its run's steps (step 0 to steps_total−1, the
     * latest record of each), answer, probes, and the annotations the aggregator accepted for the document (the
     * latest per annotator of this task whose labels are all in the set; a rejected one leaves the earlier one in
     * place, as in the aggregator).
     */
    private ObjectNode evalInput(Map<RunKey, DocumentDistribution> distributions) {
        TreeSet<String> models = new TreeSet<>();
        distributions.keySet().forEach(k -> models.add(k.model()));
        if (models.size() > 1) {
            throw new Labelscope.UserError("task '" + task + "' has distributions of " + models.size()
                    + " models " + models + ": choose one with --model", 2);
        }
        Map<String, Map<Integer, LabelStep>> steps = new LinkedHashMap<>();
        for (Object v : readToEnd(Topics.LABEL_STEPS)) {
            if (v instanceof LabelStep s && wanted(distributions, s.getDocumentId(), s.getModel(), s.getRunId())) {
                steps.computeIfAbsent(s.getDocumentId(), k -> new TreeMap<>()).put(s.getStep(), s);
            }
        }
        Map<String, Generation> generations = new LinkedHashMap<>();
        for (Object v : readToEnd(Topics.GENERATIONS)) {
            if (v instanceof Generation g && wanted(distributions, g.getDocumentId(), g.getModel(), g.getRunId())) {
                generations.put(g.getDocumentId(), g);
            }
        }
        Map<String, UnaryProbes> unary = new LinkedHashMap<>();
        Map<String, BinaryProbes> binary = new LinkedHashMap<>();
        if (distributions.values().stream().anyMatch(d -> d.getMethods().containsKey("unary_breakdown"))) {
            for (Object v : readToEnd(Topics.UNARY_PROBES)) {
                if (v instanceof UnaryProbes u && wanted(distributions, u.getDocumentId(), u.getModel(),
                        u.getRunId())) {
                    unary.put(u.getDocumentId(), u);
                }
            }
        }
        if (distributions.values().stream().anyMatch(d -> d.getMethods().containsKey("binary_breakdown"))) {
            for (Object v : readToEnd(Topics.BINARY_PROBES)) {
                if (v instanceof BinaryProbes b && wanted(distributions, b.getDocumentId(), b.getModel(),
                        b.getRunId())) {
                    binary.put(b.getDocumentId(), b);
                }
            }
        }
        Map<String, List<String>> labelSets = new LinkedHashMap<>();
        distributions.values().forEach(d -> labelSets.put(d.getDocumentId(),
                Labels.normalizeLabelSet(d.getLabels())));
        Map<String, Map<String, List<String>>> annotations = new LinkedHashMap<>();
        for (Object v : readToEnd(Topics.ANNOTATIONS)) {
            if (v instanceof Annotation a && labelSets.containsKey(a.getDocumentId()) && task.equals(a.getTask())
                    && HumanDistribution.unknownLabels(labelSets.get(a.getDocumentId()), a.getLabels()).isEmpty()) {
                annotations.computeIfAbsent(a.getDocumentId(), k -> new LinkedHashMap<>())
                        .put(a.getAnnotatorId(), a.getLabels());
            }
        }

        ObjectNode root = JSON.createObjectNode();
        root.put("task", task);
        if (!models.isEmpty()) {
            root.put("model", models.first());
        }
        ArrayNode taskLabels = root.putArray("labels");
        distributions.values().stream().findFirst().ifPresent(d -> d.getLabels().forEach(taskLabels::add));
        ArrayNode docs = root.putArray("documents");
        for (DocumentDistribution d : distributions.values()) {
            String id = d.getDocumentId();
            ObjectNode doc = docs.addObject();
            doc.put("id", id);
            doc.put("run_id", d.getRunId());
            ArrayNode labels = doc.putArray("labels");
            d.getLabels().forEach(labels::add);
            Generation g = generations.get(id);
            ArrayNode stepArray = doc.putArray("steps");
            if (g != null) {
                Map<Integer, LabelStep> runSteps = steps.getOrDefault(id, Map.of());
                for (int i = 0; i < g.getStepsTotal(); i++) {
                    LabelStep s = runSteps.get(i);
                    if (s == null) {
                        throw new Labelscope.UserError("document '" + id + "' run " + d.getRunId() + ": step " + i
                                + " of " + g.getStepsTotal() + " is not on topic " + Topics.LABEL_STEPS
                                + " (deleted by retention?)", 1);
                    }
                    ObjectNode step = stepArray.addObject();
                    ObjectNode logits = step.putObject("logits");
                    s.getLogits().forEach(logits::put);
                    step.put("generated", s.getGeneratedLabel());
                }
                ArrayNode answer = doc.putArray("final_labels");
                g.getParsedLabels().forEach(answer::add);
            } else {
                doc.putArray("final_labels");
            }
            ArrayNode annotators = doc.putArray("annotators");
            annotations.getOrDefault(id, Map.of()).values().forEach(l -> {
                ArrayNode a = annotators.addArray();
                l.forEach(a::add);
            });
            UnaryProbes u = unary.get(id);
            if (u != null) {
                ObjectNode un = doc.putObject("unary");
                u.getProbes().forEach((label, p) -> un.putObject(label).put("reasonable", p.getReasonable())
                        .put("unreasonable", p.getUnreasonable()));
            }
            BinaryProbes b = binary.get(id);
            if (b != null) {
                ArrayNode pairs = doc.putArray("binary");
                for (PairLogits p : b.getPairs()) {
                    pairs.addObject().put("a", p.getA()).put("b", p.getB()).put("logit_a", p.getLogitA())
                            .put("logit_b", p.getLogitB());
                }
            }
        }
        return root;
    }

    /** The record belongs to the run of a selected latest distribution. */
    private static boolean wanted(Map<RunKey, DocumentDistribution> distributions, String documentId, String model,
                                  String runId) {
        DocumentDistribution d = distributions.get(new RunKey(documentId, model));
        return d != null && d.getRunId().equals(runId);
    }
}
