package io.labelscope.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import io.labelscope.runtime.task.TaskMethod;

/** The worker's pure parts: run ids, client settings, task files, failure classification. */
class WorkerUnitsTest {

    @Test
    void onlyRegistryAndKafkaFailuresAreInfrastructureEverythingElseIsTheRecords() {
        assertThat(WorkerLoop.isInfrastructure(new io.labelscope.schemas.serde.SchemaRegistryUnavailableException(
                "registry down", new java.net.ConnectException("Connection refused")))).isTrue();
        assertThat(WorkerLoop.isInfrastructure(new org.apache.kafka.common.errors.TimeoutException("tasks topic")))
                .isTrue();
        assertThat(WorkerLoop.isInfrastructure(new RuntimeException("wrapped",
                new org.apache.kafka.common.KafkaException("broker")))).isTrue();
        assertThat(WorkerLoop.isInfrastructure(new ClassCastException("Annotation cannot be cast to Document")))
                .isFalse();
        assertThat(WorkerLoop.isInfrastructure(new IllegalStateException("a bug", new NullPointerException())))
                .isFalse();
    }

    @Test
    void aTaskFileThatFailsValidationIsKeptAsAnUnusableEntryWithItsReasonNotACrash(@TempDir Path dir)
            throws Exception {
        Files.writeString(dir.resolve("bad.json"), "{\"name\": \"emo/tions\", \"labels\": [\"joy\"]}");
        Files.writeString(dir.resolve("cased.json"), "{\"name\": \"cased\", \"labels\": [\"Joy\", \"joy\"]}");
        Files.writeString(dir.resolve("good.json"), TaskFiles.toJson(TestSupport.task()));
        TaskRegistry tasks = new TaskRegistry("tasks", null);
        tasks.loadFiles(dir);
        assertThat(tasks.lookup("bad")).hasValueSatisfying(e -> {
            assertThat(e.valid()).isFalse();
            assertThat(e.error()).contains("task name 'emo/tions' is not allowed");
        });
        assertThat(tasks.lookup("cased")).hasValueSatisfying(e ->
                assertThat(e.error()).contains("'Joy' and 'joy' differ only in case"));
        assertThat(tasks.lookup(TestSupport.TASK)).hasValueSatisfying(e -> assertThat(e.valid()).isTrue());
    }

    @Test
    void runIdsDependOnDocumentModelAndPromptConfigurationOnly() {
        TaskDefinition t = TestSupport.task();
        String id = RunIds.of("doc-1", "m", t);
        assertThat(RunIds.of("doc-1", "m", TaskFiles.parse(TaskFiles.toJson(t)))).isEqualTo(id);
        assertThat(id).hasSize(32).matches("[0-9a-f]+");
        assertThat(RunIds.of("doc-2", "m", t)).isNotEqualTo(id);
        assertThat(RunIds.of("doc-1", "m2", t)).isNotEqualTo(id);
        assertThat(RunIds.of("doc-1", "m", t.withMaxNewTokens(13))).isNotEqualTo(id);
        assertThat(RunIds.of("ab", "c", "x")).isNotEqualTo(RunIds.of("a", "bc", "x"));
        // The method set and the breakdown prompts are part of the run: another set is another run.
        assertThat(RunIds.of("doc-1", "m", t.withBreakdown(t.breakdown().withMethods(
                java.util.List.of(TaskMethod.GENERATE, TaskMethod.UNARY))))).isNotEqualTo(id);
        assertThat(RunIds.of("doc-1", "m", TestSupport.breakdownTask()))
                .isNotEqualTo(RunIds.of("doc-1", "m", t.withBreakdown(t.breakdown().withPairOrder(
                        io.labelscope.runtime.task.PairOrder.LABELS_FIRST))));
    }

    @Test
    void kafkaSettingsPassThroughButExactlyOnceSettingsAreTheWorkers() {
        KafkaSettings k = new KafkaSettings(Map.of("bootstrap.servers", "b:9093", "security.protocol", "SASL_SSL",
                "sasl.mechanism", "PLAIN", "isolation.level", "read_uncommitted", "enable.auto.commit", "true",
                "transactional.id", "mine", "max.poll.records", "5"), "http://r:1");
        Map<String, Object> consumer = k.documentConsumer("g", "w1", 16);
        assertThat(consumer).containsEntry("bootstrap.servers", "b:9093").containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "PLAIN").containsEntry("isolation.level", "read_committed")
                .containsEntry("enable.auto.commit", false).containsEntry("group.id", "g")
                .containsEntry("group.instance.id", "w1").containsEntry("max.poll.records", "5")
                .containsEntry("apicurio.registry.url", "http://r:1/apis/registry/v2");
        Map<String, Object> producer = k.transactionalProducer("w1");
        assertThat(producer).containsEntry("transactional.id", "labelscope-worker-w1")
                .containsEntry("enable.idempotence", true).containsEntry("security.protocol", "SASL_SSL");
        assertThat(k.ignoredOverrides()).containsExactly("enable.auto.commit", "isolation.level", "transactional.id");
        assertThat(new KafkaSettings(Map.of(), "http://r:1").common()).containsEntry("bootstrap.servers", "127.0.0.1:9092");
    }

    @Test
    void aModelPathIsOneCheckpointOrADirectoryOfThemNamedAfterTheirTasks(@TempDir Path dir) throws Exception {
        Path single = Files.createDirectories(dir.resolve("single"));
        Files.writeString(single.resolve("config.json"), "{}");
        assertThat(Models.checkpointDirs(single)).containsExactly(Map.entry("", single));
        Path perTask = Files.createDirectories(dir.resolve("demo"));
        for (String t : new String[] {"mfrc", "goemotions"}) {
            Files.writeString(Files.createDirectories(perTask.resolve(t)).resolve("config.json"), "{}");
        }
        Files.createDirectories(perTask.resolve("notes"));
        assertThat(Models.checkpointDirs(perTask)).containsExactly(Map.entry("goemotions", perTask.resolve("goemotions")),
                Map.entry("mfrc", perTask.resolve("mfrc")));
        assertThat(Models.checkpointDirs(dir.resolve("missing"))).isEmpty();
    }

    @Test
    void taskFilesAreLoadedAndAnUnusableFileIsKeptWithItsReason(@TempDir Path dir) throws Exception {
        TaskFiles.write(dir.resolve("good.json"), TestSupport.task());
        Files.writeString(dir.resolve("broken.json"), "{\"name\": \"broken\", \"labels\": []}");
        Files.writeString(dir.resolve("notes.txt"), "ignored");
        try (TaskRegistry r = new TaskRegistry("tasks", null)) {
            r.loadFiles(dir);
            assertThat(r.lookup(TestSupport.TASK)).hasValueSatisfying(e -> assertThat(e.task()).isEqualTo(TestSupport.task()));
            assertThat(r.lookup("broken")).hasValueSatisfying(e -> {
                assertThat(e.task()).isNull();
                assertThat(e.error()).contains("has no labels");
            });
            assertThat(r.lookup("notes")).isEmpty();
            assertThat(r.entries()).hasSize(2);
        }
    }
}
