package io.labelscope.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.labelscope.platform.testing.ServiceProcess;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;

/**
 * The packaged worker as real processes against a real broker and registry: two workers share one group, and a
 * worker killed with SIGKILL in the middle of a transaction is restarted; read_committed consumers must see every
 * document's outputs exactly once.
 */
class WorkerProcessIT {
    private static final Duration START = Duration.ofSeconds(180);
    private static TestPlatform platform;

    @BeforeAll
    static void platform() throws Exception {
        platform = TestPlatform.get();
        TestSupport.ensureTopics(platform, "it-warmup", 2);
        TestSupport.registerTask(platform, TestSupport.task());
        TestSupport.model();
    }

    private static Map<String, String> config(String instance, String group, String topic) throws Exception {
        Map<String, String> c = new HashMap<>();
        c.put("kafka.bootstrap.servers", platform.bootstrapServers());
        c.put("labelscope.registry.url", platform.registryUrl());
        c.put("labelscope.worker.model.path", TestSupport.model().toString());
        c.put("labelscope.worker.model.name", "demo");
        c.put("labelscope.worker.model.threads", "1");
        c.put("labelscope.worker.instance-id", instance);
        c.put("labelscope.worker.group-id", group);
        c.put("labelscope.worker.documents-topic", topic);
        c.put("labelscope.worker.batch-size", "8");
        c.put("labelscope.worker.linger", "PT0.2S");
        c.put("kafka.session.timeout.ms", "10000");
        return c;
    }

    private static List<String> produce(String topic, String prefix, int n) {
        List<String> ids = new ArrayList<>();
        try (KafkaProducer<String, SpecificRecord> prod = TestSupport.avroProducer(platform)) {
            for (int i = 0; i < n; i++) {
                String id = prefix + i;
                ids.add(id);
                prod.send(new ProducerRecord<>(topic, id, TestSupport.doc(id, TestSupport.text(i))));
            }
        }
        return ids;
    }

    /** Exactly one generation per document, and each document's steps 0..n-1 exactly once, n = steps_total. */
    private static void assertExactlyOnce(String prefix, List<String> ids) {
        List<ConsumerRecord<String, Generation>> gens = TestSupport.readUntil(platform, Topics.GENERATIONS, prefix, true,
                Duration.ofSeconds(180), l -> l.size() >= ids.size());
        Map<String, List<Generation>> byId = gens.stream().map(ConsumerRecord::value)
                .collect(Collectors.groupingBy(g -> g.getDocumentId().toString()));
        assertThat(byId.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(byId.values()).allSatisfy(l -> assertThat(l).as("generations of one document").hasSize(1));
        int total = byId.values().stream().mapToInt(l -> l.get(0).getStepsTotal()).sum();
        List<ConsumerRecord<String, LabelStep>> steps = TestSupport.readUntil(platform, Topics.LABEL_STEPS, prefix, true,
                Duration.ofSeconds(60), l -> l.size() >= total);
        assertThat(steps).hasSize(total);
        Map<String, List<LabelStep>> stepsById = steps.stream().map(ConsumerRecord::value)
                .collect(Collectors.groupingBy(s -> s.getDocumentId().toString()));
        for (String id : ids) {
            Generation g = byId.get(id).get(0);
            List<Integer> idx = stepsById.getOrDefault(id, List.of()).stream().map(LabelStep::getStep).sorted().toList();
            List<Integer> want = new ArrayList<>();
            for (int i = 0; i < g.getStepsTotal(); i++) {
                want.add(i);
            }
            assertThat(idx).as("steps of " + id).isEqualTo(want);
            assertThat(stepsById.getOrDefault(id, List.of())).allSatisfy(s ->
                    assertThat(s.getRunId().toString()).isEqualTo(g.getRunId().toString()));
        }
    }

    @Test
    void twoWorkersInOneGroupSplitThePartitionsAndProcessEveryDocumentOnce() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String topic = "it-two-" + tag;
        TestSupport.ensureTopics(platform, topic, 4);
        String group = "it-two-" + tag;
        try (ServiceProcess a = ServiceProcess.start("worker-a", TestSupport.workerJar(),
                config("it-two-a-" + tag, group, topic));
             ServiceProcess b = ServiceProcess.start("worker-b", TestSupport.workerJar(),
                     config("it-two-b-" + tag, group, topic))) {
            a.awaitLog("assigned partitions \\[" + topic, 1, START);
            b.awaitLog("assigned partitions \\[" + topic, 1, START);
            String prefix = "two-" + tag + "-";
            int n = 40;
            List<String> ids = produce(topic, prefix, n);
            assertExactlyOnce(prefix, ids);
            double docsA = a.metric("labelscope_worker_documents_total");
            double docsB = b.metric("labelscope_worker_documents_total");
            System.out.printf("two workers: a committed %.0f documents, b %.0f%n", docsA, docsB);
            assertThat(docsA).as("worker a").isPositive();
            assertThat(docsB).as("worker b").isPositive();
            assertThat(docsA + docsB).as("documents committed by both").isEqualTo(n);
            assertThat(a.get("/q/health/ready")).startsWith("200");
            assertThat(a.stop(Duration.ofSeconds(60))).as("graceful stop").isTrue();
            assertThat(a.log()).contains("worker stopped");
            assertThat(b.stop(Duration.ofSeconds(60))).isTrue();
        }
    }

    @Test
    void killMinus9InTheMiddleOfATransactionThenRestartKeepsExactlyOnce() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String topic = "it-kill-" + tag;
        TestSupport.ensureTopics(platform, topic, 2);
        String prefix = "kill-" + tag + "-";
        int n = 32;
        List<String> ids = produce(topic, prefix, n);
        String instance = "it-kill-" + tag;
        Map<String, String> cfg = config(instance, "it-kill-" + tag, topic);
        cfg.put("labelscope.worker.fault-injection-pause-before-commit", "PT4S");
        int committedBefore;
        int sentBefore;
        try (ServiceProcess w = ServiceProcess.start("worker-kill", TestSupport.workerJar(), cfg)) {
            // The first batch commits; the second is sent (visible to read_uncommitted) and waits for its commit.
            w.awaitLog("fault injection: ", 2, START);
            Thread.sleep(500);
            w.kill9();
        }
        committedBefore = TestSupport.<Generation>readUntil(platform, Topics.GENERATIONS, prefix, true,
                Duration.ofSeconds(5), l -> false).size();
        sentBefore = TestSupport.<Generation>readUntil(platform, Topics.GENERATIONS, prefix, false,
                Duration.ofSeconds(5), l -> false).size();
        System.out.printf("kill -9: %d generations committed, %d written before the kill%n", committedBefore, sentBefore);
        assertThat(committedBefore).as("committed before the kill").isPositive().isLessThan(n);
        assertThat(sentBefore).as("records of the open transaction were written").isGreaterThan(committedBefore);

        Map<String, String> again = config(instance, "it-kill-" + tag, topic);
        try (ServiceProcess w = ServiceProcess.start("worker-kill-restarted", TestSupport.workerJar(), again)) {
            assertExactlyOnce(prefix, ids);
            assertThat(w.stop(Duration.ofSeconds(60))).isTrue();
        }
        // The aborted copies (visible only to read_uncommitted) equal the committed ones: decoding is deterministic
        // and the run id depends on document, model and prompt only.
        List<ConsumerRecord<String, Generation>> all = TestSupport.readUntil(platform, Topics.GENERATIONS, prefix, false,
                Duration.ofSeconds(5), l -> false);
        Map<String, Set<String>> versions = all.stream().collect(Collectors.groupingBy(ConsumerRecord::key,
                Collectors.mapping(r -> r.value().getRunId() + "|" + r.value().getRawOutput() + "|"
                        + r.value().getParsedLabels() + "|" + r.value().getStepsTotal(), Collectors.toSet())));
        assertThat(all.size()).as("aborted copies exist").isGreaterThan(n);
        assertThat(versions.values()).allSatisfy(v -> assertThat(v).hasSize(1));
    }
}
