package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.platform.testing.ServiceProcess;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A crash never loses or doubles a document: the packaged aggregator is killed with SIGKILL in the middle of a
 * backlog and started again with the same application id and state directory. Exactly-once processing must then
 * give every document its distributions once each, and the all-time alignment metrics must count every document
 * once; their changes wait in a changelogged store for the next punctuation, so a crash between a distribution
 * and its metric flush is covered too. Outputs are read with read_committed, as a user's consumer reads them.
 *
 * <p>A document's annotation reaches the assembler through the annotations repartition topic, a hop after its
 * steps (issue #13), so its run may complete before the annotation arrives: then the document has two versions,
 * version 1 without and version 2 with its annotator; otherwise version 1 alone, with it. Nothing else is
 * right: a doubled emission repeats or adds a version, a lost annotation leaves the last without its annotator.
 * The kill also hits annotations in flight across that hop.
 */
class AggregatorCrashIT {

    /** Large enough that a fast machine cannot finish the backlog between the 80th distribution and the kill. */
    private static final int DOCUMENTS = 1000;
    /** Documents visible before the kill: the JVM is warm and the backlog is still far from done. */
    private static final int KILL_AFTER = 80;
    private static final String METHOD = "max_over_generations";
    /** Startup on a busy 2-core machine included; the backlog itself takes a few seconds. */
    private static final Duration DEADLINE = Duration.ofSeconds(120);

    private final List<ServiceProcess> runs = new ArrayList<>();

    @Test
    void killMinus9MidBacklogThenRestartLosesAndDoublesNothing() throws Exception {
        Path jar = Path.of(System.getProperty("labelscope.aggregator.jar", "target/quarkus-app/quarkus-run.jar"));
        TestPlatform platform = TestPlatform.get();
        PlatformWithTopics.createPublicTopics(platform);
        // Everything of this run is its own, so data of other tests on the shared broker cannot count.
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String task = "crash-" + tag;
        String model = "m-crash-" + tag;
        String prefix = "crash-" + tag + "-";

        Map<String, String> config = new HashMap<>();
        config.put("quarkus.kafka-streams.bootstrap-servers", platform.bootstrapServers());
        config.put("labelscope.registry.url", platform.registryUrl());
        config.put("quarkus.kafka-streams.application-id", "crash-aggregator-" + tag);
        config.put("kafka-streams.state.dir",
                Path.of("target", "it-aggregator-state-" + tag).toAbsolutePath().toString());
        // The killed member leaves the group only when its session expires; the restart waits that long.
        config.put("kafka-streams.consumer.session.timeout.ms", "6000");

        try (BrokerPipeline pipeline = new BrokerPipeline(platform.bootstrapServers(), platform.registryUrl())) {
            long t0 = System.nanoTime();
            List<String> ids = produceBacklog(pipeline, task, model, "run-" + tag, prefix, 0, DOCUMENTS);
            System.out.printf("backlog of %d documents produced in %.1f s%n", DOCUMENTS, seconds(t0));

            try (ServiceProcess first = start("aggregator-crash", jar, config)) {
                awaitDocuments(pipeline, prefix, KILL_AFTER);
                first.kill9();
            }
            // The open transaction is aborted, never committed: what is visible once the reader caught up stays.
            Thread.sleep(BrokerPipeline.SETTLE.toMillis());
            int doneAtKill = documentsDone(pipeline, prefix);
            System.out.printf("kill -9 after %d of %d documents (%.1f s)%n", doneAtKill, DOCUMENTS, seconds(t0));
            assertThat(doneAtKill).as("documents done when killed: a kill after the backlog proves nothing" + logs())
                    .isGreaterThanOrEqualTo(KILL_AFTER).isLessThan(DOCUMENTS);

            try (ServiceProcess second = start("aggregator-restarted", jar, config)) {
                awaitDocuments(pipeline, prefix, DOCUMENTS);
                // Under load an annotation may cross its repartition well after its run completed (version 2);
                // wait for those, bounded, so that a slow machine is not read as a lost annotation.
                awaitAnnotated(pipeline, prefix);
                // A doubled document would come with or right after the last one.
                Thread.sleep(BrokerPipeline.SETTLE.toMillis());
                List<DocumentDistribution> all = pipeline.distributionsWithPrefix(prefix);
                Map<String, List<DocumentDistribution>> byDocument = all.stream()
                        .collect(Collectors.groupingBy(d -> d.getDocumentId().toString()));
                assertThat(byDocument.keySet()).as("documents with a distribution" + logs())
                        .containsExactlyInAnyOrderElementsOf(ids);
                Map<String, List<String>> doubled = byDocument.entrySet().stream()
                        .filter(e -> !versionsOfOneAnnotatedRun(e.getValue()))
                        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().stream()
                                .map(d -> "v" + d.getVersion() + " with " + d.getAnnotators() + " annotators")
                                .toList()));
                assertThat(doubled).as("documents whose distributions are not [v1 with 1 annotator] or [v1 with 0, "
                        + "v2 with 1] (the inputs never changed)" + logs()).isEmpty();
                assertThat(all).as("every distribution is of this run's task and model").allSatisfy(d -> {
                    assertThat(d.getTask()).isEqualTo(task);
                    assertThat(d.getModel()).isEqualTo(model);
                });
                // The all-time mean counts each document with its current annotation: its last distribution.
                double meanNll = byDocument.values().stream()
                        .mapToDouble(ds -> ds.get(ds.size() - 1).getMethods().get(METHOD).getNll()).average()
                        .orElseThrow();
                System.out.printf("%d of %d documents completed before their annotation crossed the repartition "
                        + "(two versions)%n", byDocument.values().stream().filter(ds -> ds.size() == 2).count(),
                        DOCUMENTS);

                // Metric changes go out once per commit interval: wait for the count, then for any later flush
                // that would take it past the number of documents.
                AlignmentMetric reached = pipeline.alignment(model, METHOD, m -> m.getDocuments() >= DOCUMENTS);
                assertThat(reached.getDocuments()).as("all-time " + METHOD + " documents of " + task + "/" + model
                        + (reached.getDocuments() > DOCUMENTS ? ": overshoot, documents counted twice" : "")
                        + logs()).isEqualTo(DOCUMENTS);
                Thread.sleep(BrokerPipeline.SETTLE.toMillis());
                AlignmentMetric settled = pipeline.alignment(model, METHOD, m -> true);
                assertThat(settled.getTask()).isEqualTo(task);
                assertThat(settled.getWindowStart()).isNull();
                assertThat(settled.getDocuments()).as("all-time documents after the last flush" + logs())
                        .isEqualTo(DOCUMENTS);
                assertThat(settled.getMeanNll()).as("all-time mean NLL = mean of the documents' NLLs" + logs())
                        .isCloseTo(meanNll, within(1e-9));
                assertThat(pipeline.deadLettersWithKeyPrefix(prefix)).as("dead letters of this run").isEmpty();
                assertThat(second.java()).as("the restarted aggregator is still running" + logs()).isPresent();
                System.out.printf("every document once after the restart, metrics settled (%.1f s)%n", seconds(t0));
            }
        }
    }

    /**
     * {@code count} complete documents ({@code prefix + from} on), each an annotation, three label steps and the generation, with
     * logits that differ per document so that their distributions and NLLs do. Timestamps rise within a document
     * in that order; Kafka Streams merges the topics it reads by timestamp, but the annotation reaches the
     * assembler only once it crossed the annotations repartition, so it may come after the run completed.
     */
    static List<String> produceBacklog(BrokerPipeline pipeline, String task, String model, String run,
                                       String prefix, int from, int count) {
        List<String> ids = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            String doc = prefix + i;
            ids.add(doc);
            Instant at = Records.T0.plusMillis(10L * i);
            pipeline.sendLater(Topics.ANNOTATIONS, doc, Annotation.newBuilder(
                    Records.annotation(doc, "rater", Records.LABELS.get(i % 3))).setTask(task).build(), at);
            for (int k = 0; k < 3; k++) {
                LabelStep step = Records.step(model, doc, k, 3, Records.LABELS.get(k),
                        1 + (i + k) % 5, 1 + (2 * i + k) % 7, 1 + (3 * i + k) % 4, 1 + k);
                pipeline.sendLater(Topics.LABEL_STEPS, doc, LabelStep.newBuilder(step).setTask(task).setRunId(run)
                        .build(), at.plusMillis(1 + k));
            }
            Instant generated = at.plusMillis(4);
            Generation g = Records.generation(model, doc, 3, generated, "joy", "fear", "anger");
            pipeline.sendLater(Topics.GENERATIONS, doc, Generation.newBuilder(g).setTask(task).setRunId(run).build(),
                    generated);
        }
        pipeline.flush();
        return ids;
    }

    /**
     * The distributions of one document whose inputs never changed: version 1 with its annotator, or version 1
     * without it (the run completed before the annotation crossed the repartition) and version 2 with it.
     */
    static boolean versionsOfOneAnnotatedRun(List<DocumentDistribution> ds) {
        List<Long> versions = ds.stream().map(DocumentDistribution::getVersion).toList();
        List<Integer> annotators = ds.stream().map(DocumentDistribution::getAnnotators).toList();
        return versions.equals(List.of(1L)) && annotators.equals(List.of(1))
                || versions.equals(List.of(1L, 2L)) && annotators.equals(List.of(0, 1));
    }

    private ServiceProcess start(String name, Path jar, Map<String, String> config) throws Exception {
        ServiceProcess p = ServiceProcess.start(name, jar, config);
        runs.add(p);
        return p;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private static int documentsDone(BrokerPipeline pipeline, String prefix) {
        return (int) pipeline.distributionsWithPrefix(prefix).stream().map(DocumentDistribution::getDocumentId)
                .distinct().count();
    }

    private void awaitDocuments(BrokerPipeline pipeline, String prefix, int count) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (documentsDone(pipeline, prefix) < count) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(documentsDone(pipeline, prefix) + " of " + count + " documents have a "
                        + "distribution after " + DEADLINE.toSeconds() + " s" + logs());
            }
            Thread.sleep(20);
        }
    }

    /** Until the latest distribution of every document of this run counts its annotator, or the deadline. */
    private static void awaitAnnotated(BrokerPipeline pipeline, String prefix) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (System.nanoTime() < deadline && pipeline.distributionsWithPrefix(prefix).stream()
                .collect(Collectors.toMap(d -> d.getDocumentId().toString(), DocumentDistribution::getAnnotators,
                        (earlier, later) -> later))
                .containsValue(0)) {
            Thread.sleep(50);
        }
    }

    /** The aggregator logs of this test, for failure messages. */
    private String logs() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < runs.size(); i++) {
            s.append("\n--- aggregator log ").append(i == 0 ? "before the kill" : "after the restart")
                    .append(" (tail) ---\n").append(runs.get(i).tail());
        }
        return s.toString();
    }
}
