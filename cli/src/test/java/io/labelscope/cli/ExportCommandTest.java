package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import io.labelscope.math.Conventions;
import io.labelscope.math.DocumentAnalysis;
import io.labelscope.math.eval.OfflineEval;
import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.MethodResult;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import picocli.CommandLine;

/**
 * Issue #15 item 7: {@code export} on a real broker and registry. The records are what the worker and the aggregator
 * write for a task (label steps, generations, annotations, distributions with their metrics computed by the same
 * paper-math the aggregator runs), including what an export must see past: an older run of a document, an older
 * version of a distribution, a re-sent annotation, annotations the aggregator rejects, another model and another
 * task. The Parquet files are read back by DuckDB, and {@code --as eval} is scored by the offline eval.
 */
@ExtendWith(RealKafka.class)
class ExportCommandTest {

    private static final List<String> LABELS = List.of("joy", "fear", "anger", "surprise");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static TestPlatform platform;

    @BeforeAll
    static void topics(TestPlatform shared) {
        platform = shared;
        platform.ensureTopics(PlatformCommand.publicTopics(), 2);
    }

    private String[] run(int expectedExit, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap-servers", platform.bootstrapServers(), "--registry-url",
                platform.registryUrl()));
        return TaskCommandTest.run(expectedExit, all.toArray(String[]::new));
    }

    /** One run of one document as the worker would record it, and the annotations it is scored against. */
    record RunRecords(String documentId, String model, String runId, List<LabelStep> steps, Generation generation) {
    }

    private final Random random = new Random(15);
    private final List<ProducerRecord<String, Object>> records = new ArrayList<>();
    /** The latest distribution of each document/model: what the export must reproduce. */
    private final Map<String, DocumentDistribution> expected = new LinkedHashMap<>();

    private RunRecords workerRun(String task, String doc, String model, String runId) {
        int n = 1 + random.nextInt(3);
        List<LabelStep> steps = new ArrayList<>();
        List<String> answer = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, Double> logits = new LinkedHashMap<>();
            Map<String, Double> probs = new LinkedHashMap<>();
            List<String> keys = new ArrayList<>(LABELS);
            keys.add("none");
            double sum = 0;
            for (String k : keys) {
                double z = 10 + 8 * random.nextDouble();
                logits.put(k, z);
                sum += Math.exp(z);
            }
            for (String k : keys) {
                probs.put(k, Math.exp(logits.get(k)) / sum);
            }
            String generated = i == 1 && random.nextBoolean() ? null : LABELS.get(random.nextInt(LABELS.size()));
            answer.add(generated == null ? "happiness" : generated);
            steps.add(LabelStep.newBuilder().setDocumentId(doc).setTask(task).setModel(model).setRunId(runId)
                    .setStep(i).setStepsTotal(n).setGeneratedLabel(generated).setLogits(logits)
                    .setProbabilities(probs).setTokenIndex(2 * i).setProducedAt(Instant.now()).setLabels(LABELS)
                    .build());
        }
        Generation g = Generation.newBuilder().setDocumentId(doc).setTask(task).setModel(model).setRunId(runId)
                .setRawOutput(String.join(", ", answer)).setParsedLabels(answer).setStepsTotal(n)
                .setPromptTokens(100).setOutputTokens(2 * n).setLatencyMs(5).setStopReason("eos")
                .setProducedAt(Instant.now()).setLabels(LABELS).build();
        steps.forEach(s -> records.add(new ProducerRecord<>(Topics.LABEL_STEPS, doc, s)));
        records.add(new ProducerRecord<>(Topics.GENERATIONS, doc, g));
        return new RunRecords(doc, model, runId, steps, g);
    }

    private void annotate(String task, String doc, String annotator, List<String> labels) {
        records.add(new ProducerRecord<>(Topics.ANNOTATIONS, doc, Annotation.newBuilder().setDocumentId(doc)
                .setTask(task).setAnnotatorId(annotator).setLabels(labels).setAnnotatedAt(Instant.now()).build()));
    }

    /** The aggregator's distribution of a run with these annotators: paper-math's analysis of the same input. */
    private DocumentDistribution distribution(String task, RunRecords run, List<List<String>> annotators,
                                              long version) {
        List<DocumentAnalysis.StepInput> steps = new ArrayList<>();
        for (LabelStep s : run.steps()) {
            double[] z = new double[LABELS.size() + 1];
            for (int k = 0; k < LABELS.size(); k++) {
                z[k] = s.getLogits().get(LABELS.get(k));
            }
            z[LABELS.size()] = s.getLogits().get("none");
            steps.add(new DocumentAnalysis.StepInput(z, s.getGeneratedLabel()));
        }
        DocumentAnalysis.Report report = DocumentAnalysis.analyse(new DocumentAnalysis.DocumentInput(
                run.documentId(), LABELS, steps, run.generation().getParsedLabels(), annotators, null, null, null),
                Conventions.paper());
        Map<String, MethodResult> methods = new LinkedHashMap<>();
        report.methods().forEach((method, r) -> methods.put(method.wireName(), MethodResult.newBuilder()
                .setDistribution(labelMap(r.distribution())).setPredicted(r.predictedLabels())
                .setNll(r.scores() == null ? null : r.scores().nll())
                .setL1(r.scores() == null ? null : r.scores().l1())
                .setExampleF1(r.scores() == null ? null : r.scores().exampleF1()).build()));
        DocumentDistribution d = DocumentDistribution.newBuilder().setDocumentId(run.documentId()).setTask(task)
                .setModel(run.model()).setRunId(run.runId()).setLabels(LABELS)
                .setHuman(report.human() == null ? null : labelMap(report.human()))
                .setAnnotators(report.annotatorCount()).setMethods(methods).setUpdatedAt(Instant.now())
                .setVersion(version).build();
        records.add(new ProducerRecord<>(Topics.DISTRIBUTIONS, run.documentId(), d));
        return d;
    }

    private static Map<String, Double> labelMap(double[] values) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < LABELS.size(); i++) {
            m.put(LABELS.get(i), values[i]);
        }
        return m;
    }

    private List<String> randomLabels() {
        List<String> labels = new ArrayList<>();
        for (String l : LABELS) {
            if (random.nextDouble() < 0.4) {
                labels.add(l);
            }
        }
        return labels;
    }

    @Test
    void exportsTablesReadBackByDuckDbAndAnEvalInputThatReproducesTheLiveMetrics(@TempDir Path dir)
            throws Exception {
        String task = "export-" + UUID.randomUUID().toString().substring(0, 8);
        String prefix = task + "-doc-";
        int stepRowsM1 = 0;
        for (int d = 0; d < 8; d++) {
            String doc = prefix + d;
            if (d == 0) {
                // An earlier run of this document (another prompt version): its steps are exported as steps, but
                // the eval input must use the latest run's only.
                RunRecords old = workerRun(task, doc, "m1", "run-old");
                distribution(task, old, List.of(), 1);
                stepRowsM1 += old.steps().size() * (LABELS.size() + 1);
            }
            RunRecords run = workerRun(task, doc, "m1", "run-" + d);
            stepRowsM1 += run.steps().size() * (LABELS.size() + 1);
            Map<String, List<String>> accepted = new LinkedHashMap<>();
            for (int a = 0; a < 3; a++) {
                List<String> labels = randomLabels();
                annotate(task, doc, "ann-" + a, labels);
                accepted.put("ann-" + a, labels);
            }
            DocumentDistribution first = distribution(task, run, new ArrayList<>(accepted.values()), 1);
            if (d == 0) {
                expected.put(doc + "/m1", first);
            }
            if (d >= 1) {
                // A re-sent annotation replaces the annotator's earlier one; one with an unknown label and one of
                // another task are dead-lettered by the aggregator and change nothing.
                List<String> resent = randomLabels();
                annotate(task, doc, "ann-0", resent);
                accepted.put("ann-0", resent);
                annotate(task, doc, "ann-1", List.of("joy", "happiness"));
                annotate("another-task", doc, "ann-2", List.of("fear"));
                expected.put(doc + "/m1", distribution(task, run, new ArrayList<>(accepted.values()), 2));
            }
        }
        // Another model on one document, for --model.
        RunRecords other = workerRun(task, prefix + 3, "m2", "run-m2");
        DocumentDistribution otherDistribution = distribution(task, other, List.of(List.of("joy")), 1);
        Map<String, Object> config = new HashMap<>(AvroSerdeConfig.producer(platform.registryUrl()));
        config.put("bootstrap.servers", platform.bootstrapServers());
        try (KafkaProducer<String, Object> producer = new KafkaProducer<>(config)) {
            for (ProducerRecord<String, Object> r : records) {
                producer.send(r).get();
            }
        }
        List<DocumentDistribution> m1 = new ArrayList<>(expected.values());
        int distributionRowsM1 = m1.stream().mapToInt(d -> d.getMethods().size() * LABELS.size()).sum();

        // CSV: one row per document, method and label, the latest version of each document only.
        Path csv = dir.resolve("d.csv");
        assertThat(run(0, "export", "distributions", "--task", task, "--model", "m1", "--format", "csv", "--out",
                csv.toString())[0]).contains("wrote " + distributionRowsM1 + " rows");
        List<Map<String, String>> csvRows = new ArrayList<>();
        try (MappingIterator<Map<String, String>> it = new CsvMapper().readerForMapOf(String.class)
                .with(CsvSchema.emptySchema().withHeader()).readValues(csv.toFile())) {
            it.forEachRemaining(csvRows::add);
        }
        assertThat(csvRows).hasSize(distributionRowsM1);
        for (Map<String, String> row : csvRows) {
            DocumentDistribution d = expected.get(row.get("document_id") + "/" + row.get("model"));
            MethodResult m = d.getMethods().get(row.get("method"));
            assertThat(Double.parseDouble(row.get("p"))).isEqualTo(m.getDistribution().get(row.get("label")));
            assertThat(row.get("run_id")).isEqualTo(d.getRunId());
            assertThat(Long.parseLong(row.get("version"))).isEqualTo(d.getVersion());
            assertThat(row.get("nll")).isEqualTo(m.getNll() == null ? "" : m.getNll().toString());
            assertThat(Boolean.parseBoolean(row.get("predicted")))
                    .isEqualTo(m.getPredicted().contains(row.get("label")));
        }

        // JSON lines, every model: the m2 distribution too.
        Path jsonl = dir.resolve("d.jsonl");
        run(0, "export", "distributions", "--task", task, "--format", "jsonl", "--out", jsonl.toString());
        List<JsonNode> lines = Files.readAllLines(jsonl).stream().map(ExportCommandTest::json).toList();
        assertThat(lines).hasSize(distributionRowsM1 + otherDistribution.getMethods().size() * LABELS.size());
        JsonNode m2Row = lines.stream().filter(n -> n.get("model").asText().equals("m2")
                && n.get("method").asText().equals("max_over_generations") && n.get("label").asText().equals("joy"))
                .findFirst().orElseThrow();
        assertThat(m2Row.get("p").asDouble())
                .isEqualTo(otherDistribution.getMethods().get("max_over_generations").getDistribution().get("joy"));
        assertThat(m2Row.get("human").asDouble()).isEqualTo(1.0);

        // Parquet, read by DuckDB's own reader.
        Path parquet = dir.resolve("d.parquet");
        run(0, "export", "distributions", "--task", task, "--model", "m1", "--format", "parquet", "--out",
                parquet.toString());
        Path stepsParquet = dir.resolve("s.parquet");
        run(0, "export", "steps", "--task", task, "--model", "m1", "--format", "parquet", "--out",
                stepsParquet.toString());
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
             Statement sql = duck.createStatement()) {
            int seen = 0;
            try (ResultSet rs = sql.executeQuery("SELECT document_id, model, method, label, p, nll, l1, example_f1, "
                    + "annotators, typeof(updated_at) FROM read_parquet('" + parquet + "')")) {
                while (rs.next()) {
                    seen++;
                    DocumentDistribution d = expected.get(rs.getString(1) + "/" + rs.getString(2));
                    MethodResult m = d.getMethods().get(rs.getString(3));
                    assertThat(rs.getDouble(5)).isEqualTo(m.getDistribution().get(rs.getString(4)));
                    assertThat(rs.getObject(6)).isEqualTo(m.getNll());
                    assertThat(rs.getObject(7)).isEqualTo(m.getL1());
                    assertThat(rs.getObject(8)).isEqualTo(m.getExampleF1());
                    assertThat(rs.getInt(9)).isEqualTo(d.getAnnotators());
                    assertThat(rs.getString(10)).startsWith("TIMESTAMP");
                }
            }
            assertThat(seen).isEqualTo(distributionRowsM1);
            try (ResultSet rs = sql.executeQuery("SELECT count(*), count(DISTINCT run_id), "
                    + "sum(CASE WHEN label = 'none' THEN 1 ELSE 0 END) FROM read_parquet('" + stepsParquet + "')")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(stepRowsM1);
                assertThat(rs.getInt(2)).as("the old run's steps too").isEqualTo(9);
                assertThat(rs.getInt(3)).isEqualTo(stepRowsM1 / (LABELS.size() + 1));
            }
        }

        // --as eval: two models need a choice; with --model the offline eval reproduces every live figure.
        Path evalFile = dir.resolve("eval.json");
        assertThat(run(2, "export", "distributions", "--task", task, "--as", "eval", "--out",
                evalFile.toString())[1]).contains("choose one with --model");
        run(0, "export", "distributions", "--task", task, "--model", "m1", "--as", "eval", "--out",
                evalFile.toString());
        JsonNode eval = OfflineEval.run(evalFile, Conventions.paper());
        assertThat(eval.get("documents")).hasSize(expected.size());
        for (JsonNode doc : eval.get("documents")) {
            DocumentDistribution d = expected.get(doc.get("id").asText() + "/m1");
            assertThat(doc.get("n_annotators").asInt()).isEqualTo(d.getAnnotators());
            for (Map.Entry<String, MethodResult> e : d.getMethods().entrySet()) {
                JsonNode method = doc.at("/methods/" + e.getKey());
                assertThat(method.isMissingNode()).as(d.getDocumentId() + " " + e.getKey()).isFalse();
                MethodResult live = e.getValue();
                for (String label : LABELS) {
                    assertThat(method.at("/dist/" + label).asDouble())
                            .isCloseTo(live.getDistribution().get(label), within(1e-9));
                }
                assertThat(method.get("nll").asDouble()).isCloseTo(live.getNll(), within(1e-9));
                assertThat(method.get("l1").asDouble()).isCloseTo(live.getL1(), within(1e-9));
                assertThat(method.get("example_f1").asDouble()).isCloseTo(live.getExampleF1(), within(1e-9));
            }
        }
        // The same through the command line, as a user runs it.
        String printed = TaskCommandTest.run(0, "eval", evalFile.toString())[0];
        assertThat(json(printed).get("documents")).hasSize(expected.size());
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }
}
