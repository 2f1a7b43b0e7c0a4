package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.AnnotationRequest;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;

/**
 * Issue #18 item 2: {@code annotate next} on a real broker and registry. The requests are what the aggregator
 * writes on {@code annotation-requests} (key model|document id, the latest per key counts), on both partitions,
 * with what the command must see past: an earlier priority of a document, a priority 0, another task, another
 * model; the texts come from {@code documents} (the latest record of a document re-sent with a corrected text).
 */
@ExtendWith(RealKafka.class)
class AnnotateNextCommandTest {

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

    private static AnnotationRequest request(String task, String model, String doc, double priority, int annotators,
                                             String... suggested) {
        return AnnotationRequest.newBuilder().setDocumentId(doc).setTask(task).setModel(model).setPriority(priority)
                .setStrategy("flip").setAnnotators(annotators).setWhy("why " + doc + " " + priority)
                .setSuggestedLabels(List.of(suggested)).setUpdatedAt(Instant.now()).build();
    }

    @Test
    void writesTheTopDocumentsWithTextAndSuggestedLabels(@TempDir Path dir) throws Exception {
        String task = "annotate-" + UUID.randomUUID().toString().substring(0, 8);
        String a = task + "-a";
        String b = task + "-b";
        String c = task + "-c";
        String d = task + "-d";
        List<ProducerRecord<String, Object>> records = new ArrayList<>();
        for (String doc : List.of(a, b, c, d)) {
            records.add(new ProducerRecord<>(Topics.DOCUMENTS, doc, Document.newBuilder().setId(doc).setTask(task)
                    .setText("text of " + doc).setSubmittedAt(Instant.now()).build()));
        }
        records.add(new ProducerRecord<>(Topics.DOCUMENTS, b, Document.newBuilder().setId(b).setTask(task)
                .setText("corrected, text of " + b).setSubmittedAt(Instant.now()).build()));
        List<AnnotationRequest> requests = List.of(
                request(task, "m1", a, 0.9, 0, "joy"),          // superseded below
                request(task, "m1", a, 0.4, 1, "joy", "fear"),
                request(task, "m1", b, 1.2, 2, "fear"),
                request(task, "m1", c, 0.4 + 1e-12, 1),         // within 1e-9 of a: ordered by id after a
                request(task, "m1", d, 0.0, 3, "anger"),        // nothing one annotation changes: not listed
                request(task, "m2", d, 0.7, 0, "joy"),           // another model
                request("other-" + task, "m1", a, 5.0, 0));     // another task
        for (AnnotationRequest r : requests) {
            records.add(new ProducerRecord<>(Topics.ANNOTATION_REQUESTS, r.getModel() + "|" + r.getDocumentId(), r));
        }
        Map<String, Object> config = new HashMap<>(AvroSerdeConfig.producer(platform.registryUrl()));
        config.put("bootstrap.servers", platform.bootstrapServers());
        try (KafkaProducer<String, Object> producer = new KafkaProducer<>(config)) {
            for (ProducerRecord<String, Object> r : records) {
                producer.send(r).get();
            }
        }

        Path csv = dir.resolve("next.csv");
        assertThat(run(0, "annotate", "next", "--task", task, "--n", "3", "--model", "m1", "--csv",
                csv.toString())[0]).contains("wrote 3 documents of task '" + task + "'");
        List<Map<String, String>> rows = read(csv);
        assertThat(rows).extracting(r -> r.get("id")).containsExactly(b, a, c);
        assertThat(rows.get(0)).containsEntry("text", "corrected, text of " + b).containsEntry("suggested_labels",
                "fear").containsEntry("annotators", "2").containsEntry("model", "m1");
        assertThat(rows.get(1)).containsEntry("suggested_labels", "joy;fear").containsEntry("priority", "0.4")
                .containsEntry("why", "why " + a + " 0.4");

        // Every model of the task: m2's request comes in; priority 0 never does.
        assertThat(read(csvOf(dir, task, "--n", "50"))).extracting(r -> r.get("id") + "@" + r.get("model"))
                .containsExactly(b + "@m1", d + "@m2", a + "@m1", c + "@m1");

        // Without --csv: a table.
        assertThat(run(0, "annotate", "next", "--task", task, "--n", "1")[0]).contains(b).contains("1.2000")
                .contains("corrected, text of " + b).doesNotContain(a);
        assertThat(run(2, "annotate", "next", "--task", task, "--n", "0")[1]).contains("--n must be at least 1");
    }

    private Path csvOf(Path dir, String task, String... more) {
        Path csv = dir.resolve(UUID.randomUUID() + ".csv");
        List<String> args = new ArrayList<>(List.of("annotate", "next", "--task", task, "--csv", csv.toString()));
        args.addAll(List.of(more));
        run(0, args.toArray(String[]::new));
        return csv;
    }

    private static List<Map<String, String>> read(Path csv) throws Exception {
        List<Map<String, String>> rows = new ArrayList<>();
        try (MappingIterator<Map<String, String>> it = new CsvMapper().readerForMapOf(String.class)
                .with(CsvSchema.emptySchema().withHeader()).readValues(csv.toFile())) {
            it.forEachRemaining(rows::add);
        }
        return rows;
    }
}
