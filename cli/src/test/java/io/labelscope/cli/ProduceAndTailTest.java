package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.MethodResult;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.DeadLetters;
import io.labelscope.schemas.serde.Decoded;
import picocli.CommandLine;

/** {@code produce} and {@code tail} against a real broker and registry. */
@ExtendWith(RealKafka.class)
class ProduceAndTailTest {

    private static TestPlatform platform;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void topics(TestPlatform shared) {
        platform = shared;
        platform.ensureTopics(PlatformCommand.publicTopics(), 2);
    }

    private int run(String... args) {
        CommandLine cli = Labelscope.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap-servers", platform.bootstrapServers(), "--registry-url",
                platform.registryUrl()));
        return cli.execute(all.toArray(String[]::new));
    }

    @Test
    void documentsFromCsvAreSentAndBadLinesAreListedByLineNumber(@TempDir Path dir) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path csv = dir.resolve("docs.csv");
        Files.writeString(csv, String.join("\n",
                "id,text,source",
                run + "-1,\"I love this, truly\",reddit",
                run + "-2,,reddit",
                ",no id here,reddit",
                run + "-3,\"spans",
                "two lines\",forum",
                run + "-1,duplicate id,reddit",
                ""));
        // The task checks have a test of their own (ProduceChecksTest); this one is about reading the file.
        assertThat(run("produce", "documents", csv.toString(), "--task", "goemotions", "--no-check"))
                .as(err.toString()).isEqualTo(ExitCode.LINES_REJECTED);

        assertThat(out.toString()).contains("sent 2 documents to documents")
                .contains("rejected 3 line(s)")
                .contains("line 3: missing text")
                .contains("line 4: missing id")
                .contains("line 7: id " + run + "-1 appears earlier in the file");
        List<Document> sent = read(Topics.DOCUMENTS, Document.class, run);
        assertThat(sent).extracting(Document::getId).containsExactlyInAnyOrder(run + "-1", run + "-3");
        Document multiline = sent.stream().filter(d -> d.getId().equals(run + "-3")).findFirst().orElseThrow();
        assertThat(multiline.getText()).isEqualTo("spans\ntwo lines");
        assertThat(multiline.getTask()).isEqualTo("goemotions");
        assertThat(multiline.getMetadata()).containsEntry("source", "forum");
    }

    @Test
    void annotationsFromJsonLinesKeepEmptyLabelSetsAndRejectBadLabels(@TempDir Path dir) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path jsonl = dir.resolve("annotations.jsonl");
        Files.writeString(jsonl, String.join("\n",
                "{\"document_id\": \"" + run + "-1\", \"annotator_id\": \"a1\", \"labels\": [\"joy\", \"surprise\"]}",
                "{\"document_id\": \"" + run + "-1\", \"annotator_id\": \"a2\", \"labels\": []}",
                "{\"document_id\": \"" + run + "-1\", \"annotator_id\": \"a3\", \"labels\": \"joy; fear\"}",
                "{\"document_id\": \"" + run + "-1\", \"annotator_id\": \"a4\", \"labels\": [3]}",
                "not json",
                ""));
        assertThat(run("produce", "annotations", jsonl.toString(), "--task", "goemotions", "--rate", "100",
                "--no-check")).as(err.toString()).isEqualTo(ExitCode.LINES_REJECTED);
        assertThat(out.toString()).contains("sent 3 annotations").contains("line 4: labels must be non-empty strings")
                .contains("line 5: not valid JSON");
        // Not a terminal (a log, CI): the progress bar is written once, when done, not redrawn with carriage returns.
        assertThat(err.toString()).doesNotContain("\r")
                .containsOnlyOnce("producing annotations [" + "#".repeat(30) + "] 3/3 100%");
        List<Annotation> sent = read(Topics.ANNOTATIONS, Annotation.class, run);
        assertThat(sent).extracting(a -> a.getAnnotatorId() + "=" + a.getLabels())
                .containsExactlyInAnyOrder("a1=[joy, surprise]", "a2=[]", "a3=[joy, fear]");
    }

    @Test
    void tailShowsDistributionsAsJsonAndAsATable() throws Exception {
        String id = "tail-" + UUID.randomUUID();
        DocumentDistribution distribution = DocumentDistribution.newBuilder().setDocumentId(id).setTask("mfrc")
                .setModel("demo").setRunId("r").setLabels(List.of("care", "purity")).setHuman(Map.of("care", 1.0,
                        "purity", 0.0)).setAnnotators(3)
                .setMethods(Map.of("max_over_generations", MethodResult.newBuilder()
                        .setDistribution(Map.of("care", 0.9, "purity", 0.2)).setPredicted(List.of("care"))
                        .setNll(0.33).setL1(0.3).setExampleF1(1.0).build()))
                .setUpdatedAt(Instant.now()).build();
        Map<String, Object> config = AvroSerdeConfig.producer(platform.registryUrl());
        config.put("bootstrap.servers", platform.bootstrapServers());
        try (KafkaProducer<String, Object> producer = new KafkaProducer<>(config)) {
            producer.send(new ProducerRecord<>(Topics.DISTRIBUTIONS, id, distribution)).get();
        }

        assertThat(run("tail", "distributions", "--from-beginning", "--task", "mfrc", "--json", "--idle-timeout", "5"))
                .as(err.toString()).isZero();
        JsonNode shown = out.toString().lines().map(ProduceAndTailTest::json)
                .filter(n -> n.path("document_id").asText().equals(id)).findFirst().orElseThrow();
        assertThat(shown.at("/methods/max_over_generations/nll").asDouble()).isEqualTo(0.33);
        assertThat(shown.at("/human/care").asDouble()).isEqualTo(1.0);

        out.getBuffer().setLength(0);
        assertThat(run("tail", "distributions", "--from-beginning", "--task", "mfrc", "--idle-timeout", "5")).isZero();
        assertThat(out.toString().lines().filter(l -> l.startsWith(id.substring(0, 23))))
                .singleElement().asString().contains("0.330/0.300/1.000").contains("[care]");

        out.getBuffer().setLength(0);
        assertThat(run("tail", "distributions", "--from-beginning", "--task", "no-such-task", "--json",
                "--idle-timeout", "3")).isZero();
        assertThat(out.toString()).isBlank();
    }

    /** Issue #15 item 6: the task version is a column, and --model MODEL@VERSION keeps that version only. */
    @Test
    void tailShowsEachTaskVersionAndFiltersByModelAtVersion() throws Exception {
        String run = "tv" + UUID.randomUUID().toString().substring(0, 6);
        Map<String, Object> config = AvroSerdeConfig.producer(platform.registryUrl());
        config.put("bootstrap.servers", platform.bootstrapServers());
        try (KafkaProducer<String, Object> producer = new KafkaProducer<>(config)) {
            for (String version : new String[] {"aaaaaaaaaaaa", "bbbbbbbbbbbb", null}) {
                String id = run + "-" + version;
                producer.send(new ProducerRecord<>(Topics.DISTRIBUTIONS, id, DocumentDistribution.newBuilder()
                        .setDocumentId(id).setTask("mfrc").setModel("demo").setRunId("r-" + version)
                        .setLabels(List.of("care")).setAnnotators(0).setMethods(Map.of())
                        .setUpdatedAt(Instant.now()).setTaskVersion(version).build())).get();
            }
        }
        assertThat(run("tail", "distributions", "--from-beginning", "--model", "demo@bbbbbbbbbbbb",
                "--idle-timeout", "5")).as(err.toString()).isZero();
        assertThat(out.toString().lines().filter(l -> l.startsWith(run))).singleElement().asString()
                .startsWith(run + "-bbbbbbbbbbbb").contains(" bbbbbbbbbbbb ");
        assertThat(out.toString().lines().findFirst().orElseThrow()).contains("MODEL", "VERSION");

        out.getBuffer().setLength(0);
        assertThat(run("tail", "distributions", "--from-beginning", "--model", "demo", "--idle-timeout", "5"))
                .isZero();
        assertThat(out.toString().lines().filter(l -> l.startsWith(run)).map(l -> l.split("\\s+")[3]))
                .as("every version of the model; '-' for records without one")
                .containsExactlyInAnyOrder("aaaaaaaaaaaa", "bbbbbbbbbbbb", "-");
    }

    @Test
    void tailDeadLettersShowsTimeSourceKeyErrorTypeAndReason() throws Exception {
        String key = "dl-" + UUID.randomUUID().toString().substring(0, 8);
        DeadLetter letter = DeadLetters.of(Topics.DOCUMENTS, 1, 42, key.getBytes(StandardCharsets.UTF_8),
                new byte[] {0, 1, 2}, "unknown_task", "no task 'sentiment' is registered", "inference-worker");
        Map<String, Object> config = AvroSerdeConfig.producer(platform.registryUrl());
        config.put("bootstrap.servers", platform.bootstrapServers());
        try (KafkaProducer<String, Object> producer = new KafkaProducer<>(config)) {
            producer.send(new ProducerRecord<>(Topics.DEAD_LETTERS, key, letter)).get();
        }

        assertThat(run("tail", "dead-letters", "--from-beginning", "--idle-timeout", "5")).as(err.toString())
                .isZero();
        List<String> lines = out.toString().lines().toList();
        assertThat(lines.get(0)).contains("TIME").contains("SOURCE TOPIC").contains("KEY").contains("ERROR TYPE")
                .contains("REASON");
        assertThat(lines.stream().filter(l -> l.contains(key))).singleElement().asString()
                .contains(letter.getFailedAt().toString().substring(0, 19)).contains("documents")
                .contains("unknown_task").contains("no task 'sentiment' is registered");

        out.getBuffer().setLength(0);
        assertThat(run("tail", "dead-letters", "--from-beginning", "--json", "--idle-timeout", "5"))
                .as(err.toString()).isZero();
        JsonNode shown = out.toString().lines().map(ProduceAndTailTest::json)
                .filter(n -> n.path("key").asText().equals(key)).findFirst().orElseThrow();
        assertThat(shown.path("error_type").asText()).isEqualTo("unknown_task");
        assertThat(shown.path("source_offset").asLong()).isEqualTo(42);
        assertThat(shown.path("rejected_by").asText()).isEqualTo("inference-worker");

        out.getBuffer().setLength(0);
        assertThat(run("tail", "dead-letters", "--from-beginning", "--max", "1", "--json")).isZero();
        assertThat(out.toString().lines()).hasSize(1);
    }

    private static JsonNode json(String line) {
        try {
            return new ObjectMapper().readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + line, e);
        }
    }

    private static <T> List<T> read(String topic, Class<T> type, String idPrefix) {
        Map<String, Object> config = AvroSerdeConfig.consumer(platform.registryUrl());
        config.put("bootstrap.servers", platform.bootstrapServers());
        config.put("group.id", "test-" + UUID.randomUUID());
        config.put("auto.offset.reset", "earliest");
        List<T> found = new ArrayList<>();
        try (KafkaConsumer<String, Decoded<Object>> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 15_000;
            int quiet = 0;
            while (System.currentTimeMillis() < deadline && quiet < 4) {
                var records = consumer.poll(Duration.ofMillis(500));
                boolean any = false;
                for (ConsumerRecord<String, Decoded<Object>> record : records) {
                    any = true;
                    if (record.key() != null && record.key().startsWith(idPrefix)
                            && record.value() instanceof Decoded.Ok<Object> ok) {
                        found.add(type.cast(ok.value()));
                    }
                }
                quiet = any || found.isEmpty() ? 0 : quiet + 1;
            }
        }
        return found;
    }
}
