package io.labelscope.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import io.labelscope.math.BinaryBreakdown;
import io.labelscope.math.Conventions;
import io.labelscope.math.UnaryBreakdown;
import io.labelscope.platform.testing.ServiceProcess;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.decode.ProbeScorer;
import io.labelscope.runtime.task.ProbePrompts;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.MethodResult;
import io.labelscope.schemas.Topics;

/**
 * Issue #8 end to end on the real broker and registry, as processes: the packaged worker (demo model, a task running
 * generate, unary and binary) and the packaged aggregator. Documents and annotations in; out of {@code distributions}
 * come, per document, unary_breakdown, binary_breakdown and binary_outcome beside the generation-based methods, with
 * the worker's run id, and equal to paper-math applied to the offline runtime's probe logits for the same texts.
 */
class BreakdownEndToEndIT {
    private static final Duration START = Duration.ofSeconds(180);

    @Test
    void probesFlowFromTheWorkerThroughTheAggregatorIntoDistributions() throws Exception {
        Path aggregatorJar = Path.of(System.getProperty("labelscope.aggregator.jar",
                "../aggregator/target/quarkus-app/quarkus-run.jar"));
        assertThat(Files.isRegularFile(aggregatorJar)).as(aggregatorJar + " is missing: package the aggregator first "
                + "(the reactor builds it before this module)").isTrue();
        TestPlatform p = TestPlatform.get();
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String topic = "e2e-breakdown-" + tag;
        TestSupport.ensureTopics(p, topic, 2);
        TaskDefinition task = TestSupport.breakdownTask();
        TestSupport.registerTask(p, task);

        Map<String, String> agg = new HashMap<>();
        agg.put("quarkus.kafka-streams.bootstrap-servers", p.bootstrapServers());
        agg.put("labelscope.registry.url", p.registryUrl());
        agg.put("quarkus.kafka-streams.application-id", "e2e-aggregator-" + tag);
        agg.put("kafka-streams.state.dir", Path.of("target", "it-aggregator-state-" + tag).toAbsolutePath().toString());
        Map<String, String> work = new HashMap<>();
        work.put("kafka.bootstrap.servers", p.bootstrapServers());
        work.put("labelscope.registry.url", p.registryUrl());
        work.put("labelscope.worker.model.path", TestSupport.model().toString());
        work.put("labelscope.worker.model.name", "demo");
        work.put("labelscope.worker.model.threads", "1");
        work.put("labelscope.worker.instance-id", "e2e-worker-" + tag);
        work.put("labelscope.worker.group-id", "e2e-workers-" + tag);
        work.put("labelscope.worker.documents-topic", topic);
        work.put("labelscope.worker.batch-size", "4");
        work.put("labelscope.worker.linger", "PT0.2S");
        try (ServiceProcess aggregator = ServiceProcess.start("aggregator", aggregatorJar, agg);
             ServiceProcess worker = ServiceProcess.start("worker", TestSupport.workerJar(), work)) {
            worker.awaitLog("assigned partitions", 1, START);
            aggregator.awaitLog("(?i)state transition from \\w+ to RUNNING|started in", 1, START);

            String prefix = "e2e-" + tag + "-";
            List<String> ids = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            try (KafkaProducer<String, SpecificRecord> prod = TestSupport.avroProducer(p)) {
                for (int i = 0; i < 3; i++) {
                    String id = prefix + i;
                    ids.add(id);
                    texts.add(TestSupport.text(60 + i));
                    prod.send(new ProducerRecord<>(topic, id, TestSupport.doc(id, TestSupport.BREAKDOWN_TASK,
                            texts.get(i))));
                    // Two annotators per document, so the alignment metrics are computed too.
                    for (String[] a : new String[][] {{"rater-1", "joy"}, {"rater-2", "anger"}}) {
                        prod.send(new ProducerRecord<>(Topics.ANNOTATIONS, id, Annotation.newBuilder()
                                .setDocumentId(id).setTask(TestSupport.BREAKDOWN_TASK).setAnnotatorId(a[0])
                                .setLabels(List.of(a[1])).setAnnotatedAt(Instant.now()).build()));
                    }
                }
            }
            List<String> breakdowns = List.of("unary_breakdown", "binary_breakdown", "binary_outcome");
            List<ConsumerRecord<String, DocumentDistribution>> dists = TestSupport.readUntil(p, Topics.DISTRIBUTIONS,
                    prefix, true, Duration.ofSeconds(240), l -> ids.stream().allMatch(id -> latest(l, id) != null
                            && latest(l, id).getMethods().keySet().stream().map(Object::toString).toList()
                                    .containsAll(breakdowns) && latest(l, id).getAnnotators() == 2));
            try (LlmModel model = LlmModel.load(TestSupport.model(), RuntimeConfig.cpu());
                 ProbeScorer scorer = new ProbeScorer(model, task)) {
                List<ProbeScorer.UnaryResult> unary = scorer.unary(texts);
                List<ProbeScorer.BinaryResult> binary = scorer.binary(texts);
                int labels = task.labels().size();
                for (int i = 0; i < ids.size(); i++) {
                    DocumentDistribution d = latest(dists, ids.get(i));
                    assertThat(d).as("a distribution for " + ids.get(i) + "\naggregator:\n" + aggregator.tail()
                            + "\nworker:\n" + worker.tail()).isNotNull();
                    assertThat(d.getRunId().toString()).isEqualTo(RunIds.of(ids.get(i), "demo", task));
                    Map<String, MethodResult> methods = new HashMap<>();
                    d.getMethods().forEach((k, v) -> methods.put(k.toString(), v));
                    assertThat(methods).containsKeys("max_over_generations", "compare_to_none", "unary_breakdown",
                            "binary_breakdown", "binary_outcome");
                    // The aggregator's numbers are paper-math on the worker's logits, which are the runtime's.
                    ProbeScorer.UnaryResult u = unary.get(i);
                    double[] wantUnary = UnaryBreakdown.distribution(java.util.Arrays.copyOf(u.reasonable(), labels),
                            java.util.Arrays.copyOf(u.unreasonable(), labels));
                    List<BinaryBreakdown.PairLogits> pairs = new ArrayList<>();
                    ProbeScorer.BinaryResult b = binary.get(i);
                    for (int q = 0; q < b.pairs().size(); q++) {
                        ProbePrompts.Pair pair = b.pairs().get(q);
                        pairs.add(new BinaryBreakdown.PairLogits(pair.a(), pair.b(), b.logitA()[q], b.logitB()[q]));
                    }
                    double[] wantBinary = BinaryBreakdown.distribution(labels, pairs, false, Conventions.paper());
                    for (int l = 0; l < labels; l++) {
                        String label = task.labels().get(l);
                        assertThat(value(methods.get("unary_breakdown"), label)).as(label)
                                .isCloseTo(wantUnary[l], within(1e-4));
                        assertThat(value(methods.get("binary_breakdown"), label)).as(label)
                                .isCloseTo(wantBinary[l], within(1e-4));
                    }
                    // Annotated: the breakdowns are scored against the annotators like the other methods.
                    assertThat(methods.get("unary_breakdown").getNll()).isNotNull();
                    assertThat(methods.get("binary_breakdown").getExampleF1()).isNotNull();
                }
            }
        }
    }

    /** The last distribution read for a document (re-emitted as inputs arrive). */
    private static DocumentDistribution latest(List<ConsumerRecord<String, DocumentDistribution>> l, String id) {
        DocumentDistribution last = null;
        for (ConsumerRecord<String, DocumentDistribution> r : l) {
            if (r.key().equals(id) && (last == null || r.value().getVersion() >= last.getVersion())) {
                last = r.value();
            }
        }
        return last;
    }

    private static double value(MethodResult m, String label) {
        for (Map.Entry<String, Double> e : m.getDistribution().entrySet()) {
            if (e.getKey().toString().equals(label)) {
                return e.getValue();
            }
        }
        throw new AssertionError("no " + label + " in " + m.getDistribution());
    }
}
