package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.labelscope.cli.PackagedLabelscope.Result;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;

/**
 * The packaged command line ({@code target/labelscope-cli.jar} and {@code target/lib}, as the launcher runs it) with
 * the packaged worker and aggregator, under the faults an operator meets, on one platform start: kill -9 of the
 * worker, the aggregator, the broker and the registry, each with a fresh backlog of the demo task in flight (its
 * documents, 1 to 3 annotators each, and one poison record in the middle). Each service comes back by itself and
 * the data says nothing was lost, doubled or misread: read from {@code distributions} under {@code read_committed},
 * every document has the versions of exactly one run ending with all its annotators, the all-time alignment metric
 * of the task and model counts each document once with the mean of their latest distributions, and every poison
 * record has its dead letter with a reason. Then {@code restart} restarts one service, logs stay within their cap,
 * and an {@code up} whose service never becomes ready fails within its timeout naming the service and its log.
 * Recovery times (kill to every service ready; kill to the batch complete) are printed for docs/reliability.md.
 */
class LocalServicesFaultsIT {


    /** How long any one recovery may take on a loaded 2-core machine before the test calls it "not brought back". */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(150);
    private static final long LOG_CAP_BYTES = 100 * 1024;
    private static final String TASK = "goemotions";
    /** Documents in flight at each fault: enough that the kill lands mid-batch on the demo model. */
    private static final int DOCUMENTS_PER_FAULT = 12;
    /** The poison record in the middle of each fault's batch, in the order of the faults. */
    private static final List<String> POISON_KINDS = List.of("undecodable", "unknown_label", "unknown_task",
            "task_mismatch");
    /** After the expected output arrived, how long to keep listening for outputs that must not come. */
    private static final Duration SETTLE = Duration.ofSeconds(3);

    @TempDir
    Path home;

    private PackagedLabelscope cli;
    private Map<String, String> env;

    @BeforeEach
    void choosePlacesAndPorts() throws IOException {
        cli = new PackagedLabelscope(home);
        env = cli.env;
        env.put("LABELSCOPE_LOG_MAX_FILE_SIZE", "100K");
        env.put("LABELSCOPE_LOG_BACKUPS", "2");
    }

    @AfterEach
    void down() throws Exception {
        labelscope(Duration.ofMinutes(3), "down");
    }

    @Test
    void killedServicesComeBackRestartWorksLogsAreCappedAndUpFailsWithinItsTimeout() throws Exception {
        Result up = labelscope(RECOVERY_BOUND.multipliedBy(2), "up");
        assertThat(up.exit()).as(up.output()).isZero();
        assertThat(labelscope(Duration.ofSeconds(60), "status").exit()).isZero();

        String bootstrap = "127.0.0.1:" + env.get("LABELSCOPE_KAFKA_PORT");
        String registry = "http://127.0.0.1:" + env.get("LABELSCOPE_REGISTRY_PORT");
        Map<String, Integer> expectedAnnotators = new LinkedHashMap<>();
        List<Poison> poisons = new ArrayList<>();
        Map<String, double[]> recoveries = new LinkedHashMap<>();
        try (CommittedOutputs outputs = new CommittedOutputs(bootstrap, registry);
             Backlog backlog = new Backlog(bootstrap, registry)) {
            // Each fault hits a fresh backlog in flight: its documents, their annotations and one poison record
            // are sent just before the kill, so the killed service (or the broker or registry under it) dies with
            // work of that batch unfinished or uncommitted.
            int batch = 0;
            for (String service : List.of("worker", "aggregator", "broker", "registry")) {
                // The pid first: asking for it takes a command-line start, time in which the batch could finish.
                long pid = statusPid(service);
                Map<String, Integer> sent = backlog.send("f" + batch + "-" + service, DOCUMENTS_PER_FAULT,
                        POISON_KINDS.get(batch), poisons);
                expectedAnnotators.putAll(sent);
                Map<String, Integer> latest = latestAnnotators(outputs);
                long doneAtKill = sent.entrySet().stream().filter(e -> e.getValue().equals(latest.get(e.getKey())))
                        .count();
                long killed = System.nanoTime();
                double ready = killAndAwaitAllAlive(service, pid);
                awaitComplete(outputs, sent, poisons, killed, service);
                recoveries.put(service, new double[] {ready, (System.nanoTime() - killed) / 1e9, doneAtKill});
                batch++;
            }
            assertEveryDocumentOnceWithItsAnnotatorsAndMetricsTheirMean(outputs, expectedAnnotators, poisons);
        }

        Result restart = labelscope(RECOVERY_BOUND, "restart", "aggregator");
        assertThat(restart.exit()).as(restart.output()).isZero();
        assertThat(restart.output()).contains("restarted aggregator");
        // The broker kept its topics and the tasks on them.
        Result tasks = labelscope(Duration.ofSeconds(90), "task", "list");
        assertThat(tasks.output()).contains("goemotions").contains("mfrc");

        // Every service's log under its cap (plus the one event that crosses it), at most two old files each.
        try (Stream<Path> logs = Files.list(home.resolve("logs"))) {
            List<Path> all = logs.toList();
            assertThat(all).extracting(p -> p.getFileName().toString()).contains("kafka.log.1")
                    .noneMatch(n -> n.endsWith(".log.3"));
            for (Path log : all) {
                if (log.getFileName().toString().matches(".*\\.log(\\.\\d+)?")) {
                    assertThat(Files.size(log)).as(log.toString()).isLessThan(LOG_CAP_BYTES + 16 * 1024);
                }
            }
        }

        // A worker that can never be ready: its loop and it are gone (killed with -9) and its port is taken by a
        // process that does not answer HTTP. `up` starts it again and fails within its timeout, naming the service
        // and its log.
        ProcessHandle workerProcess = ProcessHandle.of(statusPid("worker")).orElseThrow();
        ProcessHandle workerLoop = workerProcess.parent().orElseThrow();
        workerLoop.destroyForcibly();
        workerProcess.destroyForcibly();
        workerProcess.onExit().get(30, TimeUnit.SECONDS);
        env.put("LABELSCOPE_START_TIMEOUT_SECONDS", "30");
        try (ServerSocket taken = new ServerSocket(Integer.parseInt(env.get("LABELSCOPE_WORKER_PORT")), 50,
                InetAddress.getLoopbackAddress())) {
            long start = System.nanoTime();
            Result stuck = labelscope(Duration.ofMinutes(4), "up");
            double seconds = (System.nanoTime() - start) / 1e9;
            assertThat(stuck.exit()).as(stuck.output()).isEqualTo(1);
            assertThat(stuck.output()).contains("inference-worker was not ready within 30 s")
                    .contains(home.resolve("logs/inference-worker.log").toString());
            System.out.printf("up with a worker that cannot start failed after %.1f s%n", seconds);
        }
        String load = Files.readString(Path.of("/proc/loadavg")).trim();
        recoveries.forEach((service, r) -> System.out.printf("kill -9 %s with %.0f of %d documents of its batch "
                + "complete: all services ready after %.1f s, backlog complete after %.1f s (load: %s)%n", service,
                r[2], DOCUMENTS_PER_FAULT, r[0], r[1], load));
    }

    /**
     * Until every document of one batch has a distribution counting all its annotators and each poison record
     * sent so far has its dead letter, bounded by {@link #RECOVERY_BOUND} from the kill.
     */
    private void awaitComplete(CommittedOutputs outputs, Map<String, Integer> batch, List<Poison> poisons,
                               long killed, String service) throws InterruptedException {
        long deadline = killed + RECOVERY_BOUND.toNanos();
        while (true) {
            Map<String, Integer> latest = latestAnnotators(outputs);
            List<String> missing = batch.entrySet().stream()
                    .filter(e -> !e.getValue().equals(latest.get(e.getKey()))).map(Map.Entry::getKey).toList();
            List<Poison> notDeadLettered = poisons.stream()
                    .filter(p -> outputs.deadLettersOf(p.errorType(), p.key()).isEmpty()).toList();
            if (missing.isEmpty() && notDeadLettered.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("after kill -9 of " + service + ", within " + RECOVERY_BOUND + ": "
                        + missing.size() + " documents without a distribution counting all their annotators "
                        + missing + "; poison records without a dead letter " + notDeadLettered + logTails());
            }
            Thread.sleep(250);
        }
    }

    /** Each document's annotator count in its latest committed distribution. */
    private static Map<String, Integer> latestAnnotators(CommittedOutputs outputs) {
        Map<String, Integer> latest = new HashMap<>();
        for (DocumentDistribution d : outputs.distributions) {
            latest.put(d.getDocumentId(), d.getAnnotators());
        }
        return latest;
    }

    /**
     * After every fault: each document has distributions of one run only, in one of the version patterns that an
     * unchanged input allows (see {@link #versionsOfOneRun}), the all-time alignment metric of the task and model
     * counts each document once with the mean of the documents' latest distributions, every poison record has a
     * dead letter with a reason, and no good document has one.
     */
    private void assertEveryDocumentOnceWithItsAnnotatorsAndMetricsTheirMean(
            CommittedOutputs outputs, Map<String, Integer> expectedAnnotators, List<Poison> poisons)
            throws InterruptedException {
        // A doubled emission would come with or right after the last one.
        Thread.sleep(SETTLE.toMillis());
        Map<String, List<DocumentDistribution>> byDocument = new LinkedHashMap<>();
        for (DocumentDistribution d : outputs.distributions) {
            byDocument.computeIfAbsent(d.getDocumentId(), k -> new ArrayList<>()).add(d);
        }
        assertThat(byDocument.keySet()).as("documents with a distribution (only the ones sent: poison records "
                + "must not produce any)").containsExactlyInAnyOrderElementsOf(expectedAnnotators.keySet());
        Map<String, String> wrong = new TreeMap<>();
        byDocument.forEach((id, ds) -> {
            if (!versionsOfOneRun(ds, expectedAnnotators.get(id))) {
                wrong.put(id, ds.stream().map(d -> "run " + d.getRunId() + " v" + d.getVersion() + " with "
                        + d.getAnnotators() + " annotators").toList() + " (expected " + expectedAnnotators.get(id)
                        + " annotators)");
            }
        });
        assertThat(wrong).as("documents whose distributions are not the versions of one run ending with all "
                + "their annotators" + logTails()).isEmpty();
        assertThat(outputs.undecodable).as("undecodable records on the output topics").isEmpty();

        List<DocumentDistribution> latest = byDocument.values().stream().map(ds -> ds.get(ds.size() - 1)).toList();
        assertThat(latest).extracting(DocumentDistribution::getTask).containsOnly(TASK);
        String model = latest.get(0).getModel();
        assertThat(latest).extracting(DocumentDistribution::getModel).containsOnly(model);
        Set<String> methods = latest.get(0).getMethods().keySet();
        assertThat(methods).as("breakdown methods of the demo task").isNotEmpty();
        for (String method : methods) {
            double meanNll = latest.stream().mapToDouble(d -> d.getMethods().get(method).getNll()).average()
                    .orElseThrow();
            AlignmentMetric settled = awaitAllTime(outputs, model, method, expectedAnnotators.size());
            assertThat(settled.getDocuments()).as("all-time " + method + " documents of " + TASK + "/" + model
                    + " (more: a document counted twice; fewer: one lost)" + logTails())
                    .isEqualTo(expectedAnnotators.size());
            assertThat(settled.getMeanNll()).as("all-time " + method + " mean NLL = mean of the documents' latest "
                    + "NLLs").isCloseTo(meanNll, within(1e-9));
        }

        for (Poison poison : poisons) {
            List<DeadLetter> letters = outputs.deadLettersOf(poison.errorType(), poison.key());
            assertThat(letters).as("dead letters of the poison record " + poison).hasSize(1);
            DeadLetter letter = letters.get(0);
            assertThat(letter.getReason()).as("reason of " + poison).isNotBlank();
            assertThat(letter.getSourceTopic()).as("source topic of " + poison).isEqualTo(poison.topic());
            System.out.printf("poison %s -> dead letter by %s: %s (%s)%n", poison, letter.getRejectedBy(),
                    letter.getErrorType(), letter.getReason());
        }
        assertThat(outputs.deadLetters).as("dead letters of good documents").noneMatch(d -> d.getKey() != null
                && d.getSourceTopic().equals(Topics.DOCUMENTS)
                && expectedAnnotators.containsKey(StandardCharsets.UTF_8.decode(d.getKey().duplicate()).toString()));
    }

    /**
     * The distributions of one document whose inputs never changed after it was sent: one run, versions 1, 2, ...
     * in order, each later version counting more annotators than the one before (an annotation that reached the
     * assembler after the run completed; annotations reach it through a repartition topic, a hop after the
     * steps), the last counting them all. A doubled emission repeats a version or an annotator count; a second run
     * or a lost annotation shows too. The pattern of the aggregator's AggregatorCrashIT, for 1 to 3 annotators.
     */
    static boolean versionsOfOneRun(List<DocumentDistribution> ds, int annotators) {
        if (ds.stream().map(DocumentDistribution::getRunId).distinct().count() != 1
                || ds.get(ds.size() - 1).getAnnotators() != annotators) {
            return false;
        }
        for (int i = 0; i < ds.size(); i++) {
            if (ds.get(i).getVersion() != i + 1 || i > 0 && ds.get(i).getAnnotators() <= ds.get(i - 1).getAnnotators()) {
                return false;
            }
        }
        return true;
    }

    /**
     * The all-time (no window) metric of the task, model and method once it counts {@code documents}, and then
     * whatever later flush came within {@link #SETTLE}: metric changes go out once per commit interval.
     */
    private AlignmentMetric awaitAllTime(CommittedOutputs outputs, String model, String method, long documents)
            throws InterruptedException {
        long deadline = System.nanoTime() + RECOVERY_BOUND.toNanos();
        while (allTime(outputs, model, method).map(AlignmentMetric::getDocuments).orElse(0L) < documents) {
            assertThat(System.nanoTime()).as("all-time " + method + " metric of " + TASK + "/" + model
                    + " did not reach " + documents + " documents: " + allTime(outputs, model, method)
                    + logTails()).isLessThan(deadline);
            Thread.sleep(250);
        }
        Thread.sleep(SETTLE.toMillis());
        return allTime(outputs, model, method).orElseThrow();
    }

    private static java.util.Optional<AlignmentMetric> allTime(CommittedOutputs outputs, String model,
                                                               String method) {
        AlignmentMetric last = null;
        for (AlignmentMetric m : outputs.alignment) {
            if (m.getTask().equals(TASK) && m.getModel().equals(model) && m.getMethod().equals(method)
                    && m.getWindowStart() == null) {
                last = m;
            }
        }
        return java.util.Optional.ofNullable(last);
    }

    /** The tails of the services' logs, for failure messages. */
    private String logTails() {
        StringBuilder s = new StringBuilder();
        for (String log : List.of("inference-worker.log", "aggregator.log")) {
            Path file = home.resolve("logs").resolve(log);
            try {
                List<String> lines = Files.readAllLines(file);
                s.append("\n--- ").append(file).append(" (tail) ---\n")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
            } catch (IOException e) {
                s.append("\n(no ").append(file).append(")");
            }
        }
        return s.toString();
    }

    /** kill -9 of one service's own process, then the seconds until {@code status} reports all four alive. */
    private double killAndAwaitAllAlive(String service, long pid) throws Exception {
        ProcessHandle process = ProcessHandle.of(pid).orElseThrow();
        long killed = System.nanoTime();
        process.destroyForcibly();
        process.onExit().get(30, TimeUnit.SECONDS);
        long deadline = killed + RECOVERY_BOUND.toNanos();
        while (true) {
            Result status = labelscope(Duration.ofSeconds(60), "status");
            if (status.exit() == 0 && statusPid(service) != pid) {
                return (System.nanoTime() - killed) / 1e9;
            }
            assertThat(System.nanoTime()).as(service + " was not brought back within " + RECOVERY_BOUND + ":\n"
                    + status.output()).isLessThan(deadline);
            Thread.sleep(1000);
        }
    }

    private long statusPid(String service) throws Exception {
        for (String line : labelscope(Duration.ofSeconds(60), "status").output().split("\n")) {
            String[] columns = line.trim().split("\\s+");
            if (columns[0].equals(service) && columns[1].matches("\\d+")) {
                return Long.parseLong(columns[1]);
            }
        }
        return -1;
    }

    /** A record that must be rejected, the service's reason type for it, and how to find its dead letter. */
    record Poison(String topic, String key, String errorType) {
    }

    /**
     * Sends the demo task's documents, 1 to 3 annotators' annotations for each (sent with the documents, so some
     * reach the aggregator before and some after the document's run completes), and one poison record in the
     * middle of each batch, as a user's Java client would: Avro through the registry, acks from all replicas.
     */
    static final class Backlog implements AutoCloseable {
        private static final List<String> LABELS = List.of("joy", "optimism", "admiration", "surprise", "fear",
                "sadness", "anger");
        private static final List<String> TEXTS = List.of("what a lovely surprise, thank you all",
                "I can't believe they did that again", "this is the best news I've had all year",
                "I'm scared of what happens next", "so sad to see the old place close", "well done, truly impressive");
        private final KafkaProducer<String, Object> avro;
        private final KafkaProducer<String, byte[]> raw;

        Backlog(String bootstrap, String registry) {
            Map<String, Object> config = AvroSerdeConfig.producer(registry);
            config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            config.put(ProducerConfig.ACKS_CONFIG, "all");
            avro = new KafkaProducer<>(config);
            raw = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
        }

        /** @return each document sent and the number of annotators that annotated it */
        Map<String, Integer> send(String prefix, int documents, String poisonKind, List<Poison> poisons)
                throws Exception {
            Map<String, Integer> annotators = new LinkedHashMap<>();
            List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
            for (int i = 0; i < documents; i++) {
                String id = prefix + "-" + i;
                Instant now = Instant.now();
                acks.add(avro.send(new ProducerRecord<>(Topics.DOCUMENTS, id, Document.newBuilder().setId(id)
                        .setTask(TASK).setText(TEXTS.get(i % TEXTS.size()) + " (" + id + ")").setSubmittedAt(now)
                        .build())));
                int count = 1 + i % 3;
                for (int a = 0; a < count; a++) {
                    acks.add(avro.send(new ProducerRecord<>(Topics.ANNOTATIONS, id, annotation(id, TASK,
                            "rater-" + a, List.of(LABELS.get((i + a) % LABELS.size()))))));
                }
                annotators.put(id, count);
                if (i == documents / 2) {
                    poisons.add(poison(poisonKind, prefix, id, acks));
                }
            }
            for (java.util.concurrent.Future<?> ack : acks) {
                ack.get(60, TimeUnit.SECONDS);
            }
            return annotators;
        }

        /** One poison record of the given kind in the middle of the batch; {@code document} is a good one. */
        private Poison poison(String kind, String prefix, String document, List<java.util.concurrent.Future<?>> acks) {
            String key = prefix + "-poison";
            switch (kind) {
                case "undecodable" -> {
                    // Not Avro at all: no magic byte, no schema id.
                    acks.add(raw.send(new ProducerRecord<>(Topics.DOCUMENTS, key,
                            "{\"id\": \"not avro\"}".getBytes(StandardCharsets.UTF_8))));
                    return new Poison(Topics.DOCUMENTS, key, "undecodable");
                }
                case "unknown_task" -> {
                    acks.add(avro.send(new ProducerRecord<>(Topics.DOCUMENTS, key, Document.newBuilder().setId(key)
                            .setTask("no-such-task").setText("a text of a task nobody registered")
                            .setSubmittedAt(Instant.now()).build())));
                    return new Poison(Topics.DOCUMENTS, key, "unknown_task");
                }
                case "unknown_label" -> {
                    // On a good document: rejected, it must not count as an annotator.
                    acks.add(avro.send(new ProducerRecord<>(Topics.ANNOTATIONS, document, annotation(document, TASK,
                            "rater-poison", List.of("no-such-label")))));
                    return new Poison(Topics.ANNOTATIONS, document, "unknown_label");
                }
                case "task_mismatch" -> {
                    acks.add(avro.send(new ProducerRecord<>(Topics.ANNOTATIONS, document, annotation(document,
                            "mfrc", "rater-poison", List.of("care")))));
                    return new Poison(Topics.ANNOTATIONS, document, "task_mismatch");
                }
                default -> throw new IllegalArgumentException("no poison kind " + kind);
            }
        }

        private static Annotation annotation(String document, String task, String annotator, List<String> labels) {
            return Annotation.newBuilder().setDocumentId(document).setTask(task).setAnnotatorId(annotator)
                    .setLabels(labels).setAnnotatedAt(Instant.now()).build();
        }

        @Override
        public void close() {
            avro.close(Duration.ofSeconds(10));
            raw.close(Duration.ofSeconds(10));
        }
    }

    /** The packaged command line, as {@code ./labelscope} runs it once built, with this test's environment. */
    private Result labelscope(Duration timeout, String... args) throws Exception {
        return cli.run(timeout, args);
    }
}
