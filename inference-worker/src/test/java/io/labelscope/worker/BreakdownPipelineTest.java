package io.labelscope.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import io.labelscope.platform.testing.RealKafkaTestResource;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.decode.ProbeScorer;
import io.labelscope.runtime.task.ProbePrompts;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.PairLogits;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.UnaryLogits;
import io.labelscope.schemas.UnaryProbes;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;

/**
 * A task running generate, unary and binary on the real broker with the committed demo model: each document gets one
 * generation, one unary-probes and one binary-probes record, with one run id and the full method set, and the probe
 * logits equal the offline runtime's for the same documents.
 */
@QuarkusTest
@QuarkusTestResource(RealKafkaTestResource.class)
@QuarkusTestResource(WorkerTestResource.class)
class BreakdownPipelineTest {

    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final String MODEL = "demo/" + TestSupport.BREAKDOWN_TASK;

    @Test
    void aTaskWithEveryMethodYieldsAllThreeEventKindsWithOneRunIdAndTheRuntimesLogits() throws Exception {
        TestPlatform p = TestPlatform.get();
        TaskDefinition task = TestSupport.breakdownTask();
        String prefix = "breakdown-" + UUID.randomUUID() + "-";
        int n = 5;
        var sent = TestSupport.sendDocuments(p, prefix, TestSupport.BREAKDOWN_TASK, n, 40);
        List<String> ids = new ArrayList<>(sent.keySet());
        List<String> texts = new ArrayList<>(sent.values());
        Map<String, Generation> gens = one(TestSupport.<Generation>readUntil(p, Topics.GENERATIONS, prefix, true, WAIT,
                l -> l.size() >= n));
        Map<String, UnaryProbes> unary = one(TestSupport.<UnaryProbes>readUntil(p, Topics.UNARY_PROBES, prefix, true,
                WAIT, l -> l.size() >= n));
        Map<String, BinaryProbes> binary = one(TestSupport.<BinaryProbes>readUntil(p, Topics.BINARY_PROBES, prefix,
                true, WAIT, l -> l.size() >= n));
        assertThat(gens.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(unary.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(binary.keySet()).containsExactlyInAnyOrderElementsOf(ids);

        try (LlmModel model = LlmModel.load(TestSupport.model(), RuntimeConfig.cpu());
             LabelDecoder decoder = new LabelDecoder(model, task, true);
             ProbeScorer scorer = new ProbeScorer(model, task)) {
            List<GenerationResult> offline = decoder.classify(texts);
            List<ProbeScorer.UnaryResult> offlineUnary = scorer.unary(texts);
            List<ProbeScorer.BinaryResult> offlineBinary = scorer.binary(texts);
            for (int i = 0; i < n; i++) {
                String id = ids.get(i);
                String runId = RunIds.of(id, MODEL, task);
                Generation g = gens.get(id);
                UnaryProbes u = unary.get(id);
                BinaryProbes b = binary.get(id);
                // One run: the same run id and the full method set on every event kind.
                for (Object[] e : new Object[][] {{g.getRunId(), g.getMethods()}, {u.getRunId(), u.getMethods()},
                        {b.getRunId(), b.getMethods()}}) {
                    assertThat(e[0].toString()).isEqualTo(runId);
                    assertThat(((List<?>) e[1]).stream().map(Object::toString).toList())
                            .containsExactly("generate", "unary", "binary");
                }
                assertThat(g.getRawOutput().toString()).isEqualTo(offline.get(i).answer());
                assertThat(u.getModel().toString()).isEqualTo(MODEL);
                assertThat(u.getLabels().stream().map(Object::toString).toList()).isEqualTo(task.labels());

                ProbeScorer.UnaryResult wantU = offlineUnary.get(i);
                Map<String, UnaryLogits> probes = new HashMap<>();
                u.getProbes().forEach((k, v) -> probes.put(k.toString(), v));
                assertThat(probes.keySet()).containsExactlyInAnyOrderElementsOf(task.scoredLabels());
                for (int l = 0; l < wantU.items().size(); l++) {
                    UnaryLogits got = probes.get(wantU.items().get(l));
                    assertThat(got.getReasonable()).isCloseTo(wantU.reasonable()[l], within(1e-4));
                    assertThat(got.getUnreasonable()).isCloseTo(wantU.unreasonable()[l], within(1e-4));
                }
                assertThat(u.getPromptTokens()).isEqualTo(wantU.promptTokens());

                ProbeScorer.BinaryResult wantB = offlineBinary.get(i);
                // 7 labels + none: C(8, 2) = 28 pairs, none shown first.
                assertThat(b.getPairs()).hasSize(28);
                for (int q = 0; q < 28; q++) {
                    PairLogits got = b.getPairs().get(q);
                    ProbePrompts.Pair pair = wantB.pairs().get(q);
                    assertThat(got.getA().toString()).isEqualTo(wantB.items().get(pair.a()));
                    assertThat(got.getB().toString()).isEqualTo(wantB.items().get(pair.b()));
                    assertThat(got.getLogitA()).isCloseTo(wantB.logitA()[q], within(1e-4));
                    assertThat(got.getLogitB()).isCloseTo(wantB.logitB()[q], within(1e-4));
                }
                assertThat(b.getPairs().get(0).getA().toString()).isEqualTo("none");
            }
        }
        // Per-method metrics are served once the batch commits.
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("labelscope_worker_method_seconds_count{method=\"unary\"}"))
                .body(containsString("labelscope_worker_probes_total{method=\"binary\"}"));
    }

    /** Records by document id, asserting exactly one per id. */
    private static <T> Map<String, T> one(List<ConsumerRecord<String, T>> records) {
        Map<String, List<T>> by = records.stream()
                .collect(Collectors.groupingBy(ConsumerRecord::key, Collectors.mapping(ConsumerRecord::value,
                        Collectors.toList())));
        Map<String, T> out = new HashMap<>();
        by.forEach((k, v) -> {
            assertThat(v).as("exactly one record for " + k).hasSize(1);
            out.put(k, v.get(0));
        });
        return out;
    }
}
