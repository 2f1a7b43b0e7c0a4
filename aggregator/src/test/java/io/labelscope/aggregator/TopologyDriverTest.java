package io.labelscope.aggregator;

import static io.labelscope.aggregator.Records.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scenarios on the topology in a TopologyTestDriver (real registry), plus windowing and late updates. */
class TopologyDriverTest extends AggregatorScenarios implements AnnotateNextScenarios {

    /** 1-minute tumbling windows, 1 minute of grace. */
    static final WindowSpec MINUTE = WindowSpec.parse("PT1M", Duration.ofMinutes(1));

    private DriverPipeline pipeline;

    @BeforeEach
    void start() {
        pipeline = new DriverPipeline(TestPlatform.get().registryUrl(), List.of(MINUTE));
    }

    @AfterEach
    void stop() {
        pipeline.close();
    }

    @Override
    public Pipeline pipeline() {
        return pipeline;
    }

    private void completeDocument(String model, String doc, Instant generatedAt) {
        step0(model, doc);
        step1(model, doc);
        pipeline.send(Topics.GENERATIONS, doc, Records.generation(model, doc, 2, generatedAt, "joy", "fear"), T0);
    }

    private AlignmentTally window(String model, Instant start) {
        return window(model, start, "max_over_generations");
    }

    private AlignmentTally window(String model, Instant start, String method) {
        WindowStore<String, AlignmentTallies> store = pipeline.driver.getWindowStore(
                TopologyProducer.alignmentWindowStore(MINUTE));
        try (var it = store.fetch(Keys.taskModel(Records.TASK, model), start, start)) {
            assertThat(it.hasNext()).as("a window starting at " + start).isTrue();
            return it.next().value.byMethod().get(method);
        }
    }

    /**
     * Windows are on generation time. w1 is generated at 10:00:10 (window [10:00, 10:01), closes at 10:02 with
     * the grace). An annotation change while stream time is 10:01:30 still updates that window; after a
     * document generated at 10:05 has moved stream time past 10:02, a change no longer touches the closed window
     * (it stays as it was when it closed) while the all-time mean takes it.
     */
    @Test
    void lateUpdatesLeaveClosedWindowsAsTheyWere() {
        String model = "m-windows";
        Instant w0 = Instant.parse("2026-11-26T10:00:00Z");
        annotate("w1", "ann-1", "joy");
        completeDocument(model, "w1", T0);
        // window [10:00, 10:01): 1 document with H = [1,0,0]
        assertThat(window(model, w0).documents()).isEqualTo(1);
        assertThat(window(model, w0).nll().mean()).isCloseTo(maxNll(1, 0, 0), within(TOL));

        pipeline.send(Topics.GENERATIONS, "w3", Records.generation(model, "w3", 0,
                Instant.parse("2026-11-26T10:01:30Z")), T0);
        annotate("w1", "ann-2", "joy", "fear");     // within the grace: H = [1, .5, 0] in the window
        assertThat(window(model, w0).documents()).isEqualTo(1);
        assertThat(window(model, w0).nll().mean()).isCloseTo(maxNll(1, 0.5, 0), within(TOL));

        pipeline.send(Topics.GENERATIONS, "w2", Records.generation(model, "w2", 0,
                Instant.parse("2026-11-26T10:05:00Z")), T0);
        annotate("w1", "ann-3", "anger");           // late: H = [2/3, 1/3, 1/3] all-time only
        assertThat(window(model, w0).documents()).isEqualTo(1);
        assertThat(window(model, w0).nll().mean()).isCloseTo(maxNll(1, 0.5, 0), within(TOL));

        KeyValueStore<String, AlignmentTallies> allTime = pipeline.driver.getKeyValueStore(
                TopologyProducer.ALIGNMENT_STORE);
        AlignmentTally all = allTime.get(Keys.taskModel(Records.TASK, model)).byMethod().get("max_over_generations");
        assertThat(all.documents()).isEqualTo(1);
        assertThat(all.nll().mean()).isCloseTo(maxNll(2.0 / 3, 1.0 / 3, 1.0 / 3), within(TOL));
        AlignmentMetric latest = pipeline.alignment(model, "max_over_generations", m -> true);
        assertThat(latest.getMeanNll()).isCloseTo(maxNll(2.0 / 3, 1.0 / 3, 1.0 / 3), within(TOL));

        // the windowed records on the metrics topic carry the window bounds
        assertThat(pipeline.alignment).anySatisfy(m -> {
            assertThat(m.getWindowStart()).isEqualTo(w0);
            assertThat(m.getWindowEnd()).isEqualTo(w0.plusSeconds(60));
        });
    }

    @Test
    void meansOverSeveralDocuments() {
        // d1 with H = [1,0,0], d2 with H = [0,1,0]: mean L1 of max over generations
        // = ((.4 + .7 + .1) + (.6 + .3 + .1)) / 2 = (1.2 + 1.0) / 2 = 1.1
        String model = "m-two-docs";
        annotate("two-1", "ann-1", "joy");
        annotate("two-2", "ann-1", "fear");
        completeDocument(model, "two-1", T0);
        completeDocument(model, "two-2", T0);
        AlignmentMetric a = pipeline.alignment(model, "max_over_generations", m -> true);
        assertThat(a.getDocuments()).isEqualTo(2);
        assertThat(a.getMeanL1()).isCloseTo(1.1, within(TOL));
        assertThat(a.getMeanNll()).isCloseTo((maxNll(1, 0, 0) + maxNll(0, 1, 0)) / 2, within(TOL));
        // F1: d1 Ŷ = {joy, fear}, Y = {joy} → 2/3; d2 Y = {fear} → 2/3
        assertThat(a.getMeanExampleF1()).isCloseTo(2.0 / 3, within(TOL));
    }

    @Test
    void runWithoutGenerateAddsNoSpikiness() {
        // Spikiness statistics are about generation steps and answers: a probe-only run contributes none, and its
        // alignment is counted under its own methods only.
        String model = "m-probes-only";
        annotate("probes-only", "ann-1", "joy");
        pipeline.send(Topics.UNARY_PROBES, "probes-only", Records.unary(model, "probes-only",
                List.of("unary", "binary")), T0);
        assertThat(pipeline.distributions).isEmpty();
        pipeline.send(Topics.BINARY_PROBES, "probes-only", Records.binary(model, "probes-only",
                List.of("unary", "binary")), T0);
        assertThat(pipeline.distributions).hasSize(1);
        assertThat(pipeline.spikiness).noneMatch(m -> m.getModel().equals(model));
        assertThat(pipeline.alignment).filteredOn(m -> m.getModel().equals(model))
                .extracting(AlignmentMetric::getMethod).containsOnly("unary_breakdown", "binary_breakdown",
                        "binary_outcome");
        // windows are on the probes' time when there is no generation
        assertThat(window(model, Instant.parse("2026-11-26T10:00:00Z"), "unary_breakdown").documents())
                .isEqualTo(1);
    }

    /**
     * Metric changes are summed per task/model and generation-time bucket (here the 1-minute window) in the
     * assembler and sent once per flush: d1 and d2 in the 10:00 minute, then d2's annotator changes her vote
     * (its old contribution out, the new one in, same bucket), d3 in the 10:02 minute. Nothing reaches the
     * metrics before the flush; after it, two changes (one per bucket) give the exact means:
     * L1 of max over generations d1 = d2 = .4 + .7 + .1 = 1.2 (H = [1,0,0]), d3 = .6 + .3 + .1 = 1.0 (H = [0,1,0]).
     */
    @Test
    void changesAreSummedPerBucketUntilTheFlush() {
        String model = "m-buffered";
        pipeline.flushEachRecord = false;
        annotate("buf-1", "ann-1", "joy");
        annotate("buf-2", "ann-1", "fear");
        annotate("buf-3", "ann-1", "fear");
        completeDocument(model, "buf-1", T0);
        completeDocument(model, "buf-2", T0.plusSeconds(30));
        annotate("buf-2", "ann-1", "joy");
        completeDocument(model, "buf-3", T0.plusSeconds(120));
        assertThat(pipeline.distributions).hasSize(4);
        assertThat(pipeline.alignment).noneMatch(m -> m.getModel().equals(model));

        pipeline.flush();
        List<AlignmentMetric> allTime = pipeline.alignment.stream().filter(m -> m.getModel().equals(model)
                && m.getMethod().equals("max_over_generations") && m.getWindowStart() == null).toList();
        assertThat(allTime).hasSize(2); // one aggregate update per bucket, not one per document
        AlignmentMetric a = allTime.get(1);
        assertThat(a.getDocuments()).isEqualTo(3);
        assertThat(a.getMeanL1()).isCloseTo((1.2 + 1.2 + 1.0) / 3, within(TOL));
        assertThat(a.getMeanNll()).isCloseTo((2 * maxNll(1, 0, 0) + maxNll(0, 1, 0)) / 3, within(TOL));
        assertThat(window(model, Instant.parse("2026-11-26T10:00:00Z")).documents()).isEqualTo(2);
        assertThat(window(model, Instant.parse("2026-11-26T10:02:00Z")).documents()).isEqualTo(1);
        assertThat(window(model, Instant.parse("2026-11-26T10:02:00Z")).l1().sum()).isCloseTo(1.0, within(TOL));
    }

    @Test
    void metricBucketDividesEveryWindow() {
        Duration grace = Duration.ofMinutes(1);
        assertThat(TopologyProducer.metricBucketMs(WindowSpecs.parse(List.of("PT1M", "PT15M/PT5M"), grace,
                Duration.ofDays(1)))).isEqualTo(60_000);
        assertThat(TopologyProducer.metricBucketMs(List.of(WindowSpec.parse("PT1M30S", grace),
                WindowSpec.parse("PT10M/PT2M", grace)))).isEqualTo(30_000);
        assertThat(TopologyProducer.metricBucketMs(List.of())).isEqualTo(60_000);
    }
}
