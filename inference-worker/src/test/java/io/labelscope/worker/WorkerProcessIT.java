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
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;

/**
 * The packaged worker as real processes against a real broker and registry: two workers share one group, a
 * worker killed with SIGKILL in the middle of a transaction is restarted, and poison records on a single partition
 * are isolated across such a kill; read_committed consumers must see every document's outputs, and every poison
 * record's dead letter, exactly once.
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

    /**
     * Issue #13: an Annotation record and a record whose processing throws on a one-partition topic, in a backlog.
     * The worker is killed with SIGKILL while the transaction holding an isolated poison record's dead letter is open,
     * and restarted: the partition moves on, every good document has exactly one generation and each poison record
     * exactly one dead letter under read_committed. Before the fix the partition stalled on the Annotation forever.
     */
    @Test
    void poisonRecordsOnOnePartitionAreIsolatedAcrossAKillMinus9() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String topic = "it-poison-" + tag;
        TestSupport.ensureTopics(platform, topic, 1);
        String prefix = "poison-" + tag + "-";
        List<String> good = new ArrayList<>();
        Map<String, String> poisonType = new HashMap<>();
        try (KafkaProducer<String, SpecificRecord> avro = TestSupport.avroProducer(platform);
             KafkaProducer<byte[], byte[]> raw = TestSupport.rawProducer(platform)) {
            for (int i = 0; i < 24; i++) {
                String id = prefix + i;
                good.add(id);
                avro.send(new ProducerRecord<>(topic, id, TestSupport.doc(id, TestSupport.text(i))));
                if (i == 4) {
                    String bad = prefix + "bad-annotation";
                    poisonType.put(bad, "wrong_record_type");
                    raw.send(new ProducerRecord<>(topic, TestSupport.utf8(bad), TestSupport.avroBytes(platform,
                            Topics.ANNOTATIONS, Annotation.newBuilder().setDocumentId(bad).setTask(TestSupport.TASK)
                                    .setAnnotatorId("a1").setLabels(List.of("joy"))
                                    .setAnnotatedAt(java.time.Instant.now()).build())));
                } else if (i == 12) {
                    String bad = prefix + "bad-throws";
                    poisonType.put(bad, "processing_failed");
                    avro.send(new ProducerRecord<>(topic, bad, TestSupport.doc(bad, "trips a bug " + TestSupport.THROW_TEXT)));
                }
            }
        }
        String instance = "it-poison-" + tag;
        Map<String, String> cfg = config(instance, "it-poison-" + tag, topic);
        cfg.put("labelscope.worker.fault-injection-throw-text", TestSupport.THROW_TEXT);
        cfg.put("labelscope.worker.fault-injection-pause-before-commit", "PT4S");
        String firstLog;
        try (ServiceProcess w = ServiceProcess.start("worker-poison", TestSupport.workerJar(), cfg)) {
            // Kill while the transaction of the batch that holds the isolated record (its dead letter with its
            // neighbours' outputs) is open: that batch is sent, then logs "fault injection", then waits to commit.
            w.awaitLog("dead-lettering it as processing_failed", 1, START);
            String log = w.log();
            String beforeIsolation = log.substring(0, log.indexOf("dead-lettering it as processing_failed"));
            int sentBatches = beforeIsolation.split("fault injection: ", -1).length - 1;
            w.awaitLog("fault injection: ", sentBatches + 1, START);
            Thread.sleep(500);
            w.kill9();
            firstLog = w.log();
        }
        assertThat(firstLog).contains("dead-lettering it as processing_failed");
        Map<String, String> again = config(instance, "it-poison-" + tag, topic);
        again.put("labelscope.worker.fault-injection-throw-text", TestSupport.THROW_TEXT);
        try (ServiceProcess w = ServiceProcess.start("worker-poison-restarted", TestSupport.workerJar(), again)) {
            assertExactlyOnce(prefix, good);
            List<ConsumerRecord<String, DeadLetter>> dead = TestSupport.readUntil(platform, Topics.DEAD_LETTERS, prefix,
                    true, Duration.ofSeconds(60), l -> l.size() >= poisonType.size());
            Map<String, String> deadTypes = new HashMap<>();
            for (ConsumerRecord<String, DeadLetter> r : dead) {
                assertThat(deadTypes.put(r.key(), r.value().getErrorType().toString()))
                        .as("one dead letter per poison record: " + r.key()).isNull();
            }
            assertThat(deadTypes).isEqualTo(poisonType);
            System.out.println("poison isolation after kill -9: " + isolationTimes(firstLog + w.log()));
            assertThat(w.stop(Duration.ofSeconds(60))).isTrue();
        }
    }

    /**
     * Issue #13: a schema registry that cannot be reached is infrastructure. The worker reaches the registry through
     * a forwarding port that refuses connections at first: documents are retried with backoff and none of them is
     * dead-lettered; once the port forwards to the registry, every document is processed exactly once.
     */
    @Test
    void anUnreachableRegistryDelaysDocumentsButNeverDeadLettersThem() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String topic = "it-registry-" + tag;
        TestSupport.ensureTopics(platform, topic, 1);
        String prefix = "registry-" + tag + "-";
        List<String> ids = produce(topic, prefix, 12);
        try (Forwarder registry = new Forwarder(java.net.URI.create(platform.registryUrl()))) {
            Map<String, String> cfg = config("it-registry-" + tag, "it-registry-" + tag, topic);
            cfg.put("labelscope.registry.url", "http://127.0.0.1:" + registry.port());
            try (ServiceProcess w = ServiceProcess.start("worker-registry", TestSupport.workerJar(), cfg)) {
                w.awaitLog("could not be processed", 2, START);
                assertThat(TestSupport.<DeadLetter>readUntil(platform, Topics.DEAD_LETTERS, prefix, false,
                        Duration.ofSeconds(3), l -> false)).as("no dead letters while the registry is away").isEmpty();
                registry.open();
                assertExactlyOnce(prefix, ids);
                assertThat(TestSupport.<DeadLetter>readUntil(platform, Topics.DEAD_LETTERS, prefix, false,
                        Duration.ofSeconds(3), l -> false)).as("no dead letters after it is back").isEmpty();
                assertThat(w.stop(Duration.ofSeconds(60))).isTrue();
            }
        }
    }

    /** A local port that refuses connections until {@link #open()}, then forwards each one to a target. */
    private static final class Forwarder implements AutoCloseable {
        private final java.net.URI target;
        private final int port;
        private volatile java.net.ServerSocket server;

        Forwarder(java.net.URI target) throws java.io.IOException {
            this.target = target;
            try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 50,
                    java.net.InetAddress.getLoopbackAddress())) {
                this.port = probe.getLocalPort();
            }
        }

        int port() {
            return port;
        }

        void open() throws java.io.IOException {
            server = new java.net.ServerSocket(port, 50, java.net.InetAddress.getLoopbackAddress());
            Thread accept = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        java.net.Socket client = server.accept();
                        java.net.Socket upstream = new java.net.Socket(target.getHost(), target.getPort());
                        pipe(client, upstream);
                        pipe(upstream, client);
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            }, "registry-forwarder");
            accept.setDaemon(true);
            accept.start();
        }

        private static void pipe(java.net.Socket from, java.net.Socket to) {
            Thread t = new Thread(() -> {
                try (from; to) {
                    from.getInputStream().transferTo(to.getOutputStream());
                } catch (java.io.IOException ignored) {
                    // one side closed: close both
                }
            }, "registry-forwarder-pipe");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws java.io.IOException {
            if (server != null) {
                server.close();
            }
        }
    }

    /** From each first "a batch of N records failed" to the next dead-lettering, in ms, read off the log's clock. */
    private static List<Long> isolationTimes(String log) {
        java.util.regex.Pattern time = java.util.regex.Pattern.compile("^\\S+ (\\d\\d):(\\d\\d):(\\d\\d),(\\d{3})");
        List<Long> out = new ArrayList<>();
        Long start = null;
        for (String line : log.split("\n")) {
            java.util.regex.Matcher m = time.matcher(line);
            if (!m.find()) {
                continue;
            }
            long at = ((Long.parseLong(m.group(1)) * 60 + Long.parseLong(m.group(2))) * 60 + Long.parseLong(m.group(3)))
                    * 1000 + Long.parseLong(m.group(4));
            if (start == null && line.contains("records failed (")) {
                start = at;
            } else if (start != null && line.contains("dead-lettering it as")) {
                out.add(at - start);
                start = null;
            }
        }
        return out;
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
