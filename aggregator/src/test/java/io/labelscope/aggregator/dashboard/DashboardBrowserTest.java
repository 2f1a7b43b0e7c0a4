package io.labelscope.aggregator.dashboard;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;

import java.net.URL;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;

/**
 * Issue 7: the live dashboard, served by the running aggregator (real broker and registry), in real headless
 * Chromium. Events go in through Kafka; the test waits for the REST API to show them, then checks that the page
 * shows the REST API's numbers, and that the same page (never reloaded) follows when more events arrive.
 *
 * <p>Task {@value #TASK}, labels joy, fear, anger, surprise (+ none). Logits are logs of weights summing to 10,
 * so each step's softmax is the weights / 10 and the expected numbers are worked out by hand:
 * <ul>
 *   <li>dash-1: P0 = [.6,.2,.1,.05 | .05] writes joy, P1 = [.1,.7,.1,.05 | .05] writes fear; annotators [joy] and
 *       [joy, fear] → H = [1,.5,0,0]; max over generations = [.6,.7,.1,.05], L1 = .4+.2+.1+.05 = .75</li>
 *   <li>dash-2: P0 = [.1,.1,.7,.05 | .05] writes anger; annotator [anger] → H = [0,0,1,0]; L1 = .1+.1+.3+.05 = .55</li>
 *   <li>dash-3 (second batch): P0 = [.8,.05,.05,.05 | .05] writes joy; annotator [surprise]; L1 = .8+.05+.05+.95 = 1.85</li>
 * </ul>
 * Mean L1 of max over generations: (.75+.55)/2 = .65, then (.75+.55+1.85)/3 = 1.05.
 */
@QuarkusTest
@QuarkusTestResource(value = DashboardPlatform.class, restrictToAnnotatedClass = true)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
// The full-page test last, so that its screenshot (docs/dashboard.png) shows the other tests' dead letters and
// pairs too; the tests do not depend on each other otherwise.
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserTest {

    static final String TASK = "dashboard-emotions";
    static final String MODEL = "dashboard/model-7b";
    static final List<String> LABELS = List.of("joy", "fear", "anger", "surprise");
    static final List<String> METHODS = List.of("max_over_generations", "compare_to_none", "hard_predictions",
            "first_step");
    static final Duration WAIT = Duration.ofSeconds(45);
    static final String FOLLOW_TASK = "dashboard-follow";
    static final String FOLLOW_MODEL_A = "follow/model-a";
    static final String FOLLOW_MODEL_B = "follow/model-b";
    static final Path SCREENSHOT = Path.of("target", "dashboard-screenshot.png");

    @TestHTTPResource("/")
    URL root;

    private KafkaProducer<String, Object> producer;
    private HeadlessChromium browser;

    @BeforeAll
    void start() throws Exception {
        TestPlatform platform = TestPlatform.get();
        Map<String, Object> p = new HashMap<>(AvroSerdeConfig.producer(platform.registryUrl()));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, platform.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(p);
        browser = new HeadlessChromium(1440, 1800);
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            if (producer != null) {
                producer.close();
            }
        }
    }

    @Test
    @Order(3)
    void pageShowsTheRestApisNumbersAndFollowsNewEventsWithoutReloading() throws Exception {
        // ---- static files: the page, its script and the bundled chart library are served by the aggregator ----
        given().get("/").then().statusCode(200).contentType(org.hamcrest.Matchers.containsString("text/html"));
        given().get("/app.js").then().statusCode(200);
        given().get("/webjars/chart.js/4.4.7/dist/chart.umd.js").then().statusCode(200)
                .body(org.hamcrest.Matchers.containsString("Chart"));

        // ---- first batch: two documents, three annotators ----------------------------------------------------
        Instant now = Instant.now();
        annotate("dash-1", "a1", now, "joy");
        annotate("dash-1", "a2", now, "joy", "fear");
        step("dash-1", 0, 2, "joy", now, 6, 2, 1, .5, .5);
        step("dash-1", 1, 2, "fear", now, 1, 7, 1, .5, .5);
        generation("dash-1", 2, now, "joy", "fear");
        annotate("dash-2", "a1", now, "anger");
        step("dash-2", 0, 1, "anger", now, 1, 1, 7, .5, .5);
        generation("dash-2", 1, now, "anger");

        JsonPath alignment = awaitAlignmentDocuments(2);
        assertThat(alignment.getDouble("all_time.max_over_generations.mean_l1")).isCloseTo(0.65, within(1e-9));
        assertPrometheusShowsTheAlignment();

        // ---- the page -------------------------------------------------------------------------------------------
        browser.driver.get(root + "#task=" + enc(TASK) + "&model=" + enc(MODEL));
        assertThat(browser.driver.getTitle()).contains("labelscope");
        browser.js("window.__sameDocument = 'not reloaded'");
        assertThat(browser.js("return typeof window.Chart")).as("Chart.js loaded from the bundled webjar")
                .isEqualTo("function");
        browser.await("the alignment of 2 documents", WAIT,
                () -> "2".equals(browser.text("align-max_over_generations-documents")));
        assertPageMatchesApi();
        assertThat(browser.text("nll-warning")).contains("constant distribution").contains("F1");
        assertThat(browser.driver.findElements(By.cssSelector("[data-testid^='hist-step-'] canvas")))
                .as("one top-1 histogram per step index (0 and 1)").hasSize(2);

        // The document view: each step's distribution beside the human one and the methods'.
        browser.await("dash-1 in the recent documents", WAIT, () -> browser.byTestId("recent-dash-1").isPresent());
        // The list is redrawn on every refresh: click the current row (retry if a redraw replaced it meanwhile).
        browser.await("a click on dash-1", WAIT, () -> {
            try {
                browser.byTestId("recent-dash-1").orElseThrow().click();
                return true;
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                return false;
            }
        });
        browser.await("the document view of dash-1", WAIT, () -> "fear".equals(browser.text("doc-step-1-label")));
        JsonPath steps = parse(given().get("/api/documents/{id}/steps", "dash-1").then().statusCode(200)
                .extract().asString());
        assertThat(steps.getDouble("runs[0].steps[0].probabilities.joy")).isCloseTo(0.6, within(1e-12));
        assertThat(steps.getDouble("human.fear")).isCloseTo(0.5, within(1e-12));
        assertThat(browser.text("doc-step-0-label")).isEqualTo("joy");
        // Beside the steps: the generated text as the model wrote it and the labels parsed from it.
        assertThat(steps.getString("runs[0].raw_output")).isEqualTo("Answer: joy, fear");
        assertThat(browser.text("doc-raw-output")).isEqualTo(steps.getString("runs[0].raw_output"));
        assertThat(browser.text("doc-parsed-labels")).isEqualTo("[joy, fear]");
        assertThat(browser.value("doc-step-0-top1")).isCloseTo(steps.getDouble("runs[0].steps[0].top1"), within(1e-12));
        for (String m : METHODS) {
            assertShown("doc-" + m + "-l1", steps.getDouble("runs[0].methods." + m + ".l1"));
        }
        Object docChart = browser.js("return Chart.getChart(document.getElementById('c-doc')).data.datasets"
                + ".map(d => d.label)");
        assertThat(docChart.toString()).contains("step 0 (wrote joy)", "step 1 (wrote fear)", "human",
                "max over generations");

        double refreshesBefore = refreshes();
        String l1Before = browser.text("align-max_over_generations-l1");

        // ---- second batch arrives while the page stays open ------------------------------------------------------
        Instant later = Instant.now();
        annotate("dash-3", "a1", later, "surprise");
        step("dash-3", 0, 1, "joy", later, 8, .5, .5, .5, .5);
        generation("dash-3", 1, later, "joy");
        JsonPath after = awaitAlignmentDocuments(3);
        assertThat(after.getDouble("all_time.max_over_generations.mean_l1")).isCloseTo(1.05, within(1e-9));

        browser.await("the alignment of 3 documents", WAIT,
                () -> "3".equals(browser.text("align-max_over_generations-documents")));
        assertPageMatchesApi();
        assertThat(browser.text("align-max_over_generations-l1")).isNotEqualTo(l1Before).isEqualTo("1.0500");
        assertThat(browser.js("return window.__sameDocument")).as("the page was not reloaded")
                .isEqualTo("not reloaded");
        assertThat(refreshes()).isGreaterThan(refreshesBefore);

        browser.screenshot(SCREENSHOT);
        assertThat(SCREENSHOT).isNotEmptyFile();
    }

    /**
     * Issue 15: "Recent documents" lists the selected task/model's documents only, and follows when another pair
     * is selected (without a reload). Two models of one task, one document each.
     */
    @Test
    @Order(2)
    void recentDocumentsFollowTheSelectedTaskAndModel() {
        Instant now = Instant.now();
        for (String model : List.of(FOLLOW_MODEL_A, FOLLOW_MODEL_B)) {
            String doc = "follow-" + model.substring(model.length() - 1);
            send(Topics.LABEL_STEPS, doc, LabelStep.newBuilder().setDocumentId(doc).setTask(FOLLOW_TASK)
                    .setModel(model).setRunId("run-" + doc).setStep(0).setStepsTotal(1).setGeneratedLabel("joy")
                    .setLogits(Map.of("joy", Math.log(6), "fear", Math.log(2), "none", Math.log(2)))
                    .setProbabilities(Map.of("joy", .6, "fear", .2, "none", .2)).setTokenIndex(3).setProducedAt(now)
                    .setLabels(List.of("joy", "fear")).build(), now);
            send(Topics.GENERATIONS, doc, Generation.newBuilder().setDocumentId(doc).setTask(FOLLOW_TASK)
                    .setModel(model).setRunId("run-" + doc).setRawOutput("joy").setParsedLabels(List.of("joy"))
                    .setStepsTotal(1).setPromptTokens(50).setOutputTokens(2).setLatencyMs(10).setStopReason("eos")
                    .setProducedAt(now).setLabels(List.of("joy", "fear")).build(), now);
        }
        browser.await("both follow-* documents in /api/overview", WAIT, () -> {
            JsonPath ov = parse(given().get("/api/overview").then().statusCode(200).extract().asString());
            List<String> ids = ov.getList("recent_documents.document_id");
            return ids.contains("follow-a") && ids.contains("follow-b");
        });

        browser.driver.get(root + "#task=" + enc(FOLLOW_TASK) + "&model=" + enc(FOLLOW_MODEL_A));
        browser.await("follow-a in the recent documents", WAIT, () -> browser.byTestId("recent-follow-a").isPresent());
        assertThat(browser.byTestId("recent-follow-b")).as("model b's document, while model a is selected")
                .isEmpty();
        assertThat(browser.text("recent-hint")).contains(FOLLOW_TASK + " · " + FOLLOW_MODEL_A);

        new org.openqa.selenium.support.ui.Select(browser.byTestId("pair-select").orElseThrow())
                .selectByValue(FOLLOW_TASK + "\u001f" + FOLLOW_MODEL_B);
        browser.await("follow-b, and not follow-a, once model b is selected", WAIT,
                () -> browser.byTestId("recent-follow-b").isPresent() && browser.byTestId("recent-follow-a").isEmpty());
        assertThat(browser.text("recent-hint")).contains(FOLLOW_TASK + " · " + FOLLOW_MODEL_B);
    }

    /**
     * Issue 15: a rejected record is visible on the dashboard. Two values that are not Avro go to
     * {@code label-steps}; the aggregator dead-letters them ({@code undecodable}), counts the dead letters from
     * the topic, and the page's dead-letter panel shows the type, the count and the latest reason that
     * {@code /api/overview} gives (the topic may hold dead letters of other test classes: at least our two).
     */
    @Test
    @Order(1)
    void deadLetterPanelShowsARejectedRecordsTypeAndCount() throws Exception {
        Map<String, Object> p = new HashMap<>();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, TestPlatform.get().bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        String marker = "dashboard-dead-letter-" + System.nanoTime();
        try (var raw = new KafkaProducer<>(p, new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.StringSerializer())) {
            raw.send(new ProducerRecord<>(Topics.LABEL_STEPS, "dead-1", "first " + marker)).get();
            raw.send(new ProducerRecord<>(Topics.LABEL_STEPS, "dead-2", "second " + marker)).get();
        }
        // The reason shows the value's first bytes in hex: the second record's says "second".
        String secondsBytes = java.util.HexFormat.of().formatHex("second".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        JsonPath[] api = new JsonPath[1];
        browser.await("our two dead letters counted in /api/overview", WAIT, () -> {
            api[0] = parse(given().get("/api/overview").then().statusCode(200).extract().asString());
            Double count = api[0].getDouble("dead_letters.undecodable.count");
            String reason = api[0].getString("dead_letters.undecodable.latest_reason");
            return count != null && count >= 2 && reason != null && reason.contains(secondsBytes);
        });
        assertThat(api[0].getString("dead_letters.undecodable.latest_source_topic")).isEqualTo(Topics.LABEL_STEPS);
        assertThat(api[0].getString("dead_letters.undecodable.latest_reason"))
                .contains("not Confluent-format Avro");
        assertThat(api[0].getDouble("counts.dead_letters"))
                .isGreaterThanOrEqualTo(api[0].getDouble("dead_letters.undecodable.count"));

        browser.driver.get(root.toString());
        browser.await("the dead-letter panel as /api/overview has it", WAIT, () -> {
            JsonPath ov = parse(given().get("/api/overview").then().statusCode(200).extract().asString());
            assertThat(browser.text("dead-undecodable-type")).isEqualTo("undecodable");
            assertShown("dead-undecodable-count", ov.getDouble("dead_letters.undecodable.count"));
            assertThat(browser.text("dead-undecodable-reason"))
                    .isEqualTo(ov.getString("dead_letters.undecodable.latest_reason"));
            assertThat(browser.text("dead-undecodable-source")).isEqualTo(Topics.LABEL_STEPS);
            assertShown("kpi-dead-letters", ov.getDouble("counts.dead_letters"));
            return true;
        });
    }

    /**
     * Issue #15 item 6: the same document under two task versions (two prompts) of one task/model. The REST API
     * keeps them apart and defaults to the latest seen; the page's version selector offers both, shows the latest
     * seen by default and says so, and selecting the other one shows that version's own numbers. Labels joy,
     * fear; annotator [joy]: H = [1, 0]. Version A: P = [.6, .2 | .2] → L1 = .4 + .2 = .6; version B (later):
     * P = [.2, .6 | .2] → L1 = .8 + .6 = 1.4.
     */
    @Test
    @Order(2)
    void theVersionSelectorShowsTheLatestSeenVersionAndSwitchesToAnother() {
        String task = "dashboard-versions";
        String model = "versions/model";
        String a = "aaaa0000aaaa";
        String b = "bbbb1111bbbb";
        Instant now = Instant.now();
        send(Topics.ANNOTATIONS, "ver-1", Annotation.newBuilder().setDocumentId("ver-1").setTask(task)
                .setAnnotatorId("a1").setLabels(List.of("joy")).setAnnotatedAt(now).build(), now);
        for (String version : List.of(a, b)) {
            double joy = version.equals(a) ? .6 : .2;
            // B's records are written later, as a re-registered prompt's are: the latest seen is B.
            Instant at = version.equals(a) ? now : now.plusSeconds(1);
            double fear = .8 - joy;
            send(Topics.LABEL_STEPS, "ver-1", LabelStep.newBuilder().setDocumentId("ver-1").setTask(task)
                    .setModel(model).setRunId("run-" + version).setTaskVersion(version).setStep(0).setStepsTotal(1)
                    .setGeneratedLabel(joy > fear ? "joy" : "fear")
                    .setLogits(Map.of("joy", Math.log(joy), "fear", Math.log(fear), "none", Math.log(.2)))
                    .setProbabilities(Map.of("joy", joy, "fear", fear, "none", .2)).setTokenIndex(3)
                    .setProducedAt(at).setLabels(List.of("joy", "fear")).build(), at);
            send(Topics.GENERATIONS, "ver-1", Generation.newBuilder().setDocumentId("ver-1").setTask(task)
                    .setModel(model).setRunId("run-" + version).setTaskVersion(version)
                    .setRawOutput(joy > fear ? "joy" : "fear").setParsedLabels(List.of(joy > fear ? "joy" : "fear"))
                    .setStepsTotal(1).setPromptTokens(50).setOutputTokens(2).setLatencyMs(10).setStopReason("eos")
                    .setProducedAt(at).setLabels(List.of("joy", "fear")).build(), at);
            browser.await("version " + version + " aligned", WAIT, () -> {
                var r = given().queryParam("task", task).queryParam("model", model).queryParam("version", version)
                        .get("/metrics/alignment");
                return r.statusCode() == 200 && parse(r.asString()).get("all_time.max_over_generations.documents")
                        instanceof Number n && n.intValue() == 1;
            });
        }
        String[] answer = new String[1];
        browser.await("both versions in /metrics/alignment, the latest seen by default", WAIT, () -> {
            answer[0] = given().queryParam("task", task).queryParam("model", model).get("/metrics/alignment")
                    .then().statusCode(200).extract().asString();
            JsonPath al = parse(answer[0]);
            assertThat(al.getList("versions.version")).as(answer[0]).containsExactly(b, a);
            assertThat(al.getString("version")).as(answer[0]).isEqualTo(b);
            return true;
        });
        JsonPath latest = parse(given().queryParam("task", task).queryParam("model", model)
                .get("/metrics/alignment").then().statusCode(200).extract().asString());
        assertThat(latest.getDouble("all_time.max_over_generations.mean_l1")).isCloseTo(1.4, within(1e-12));
        JsonPath older = parse(given().queryParam("task", task).queryParam("model", model).queryParam("version", a)
                .get("/metrics/alignment").then().statusCode(200).extract().asString());
        assertThat(older.getDouble("all_time.max_over_generations.mean_l1")).isCloseTo(0.6, within(1e-12));
        assertThat(older.getString("version")).isEqualTo(a);

        browser.driver.get(root + "#task=" + enc(task) + "&model=" + enc(model));
        browser.await("the latest seen version, B, and its L1", WAIT,
                () -> "1.4000".equals(browser.text("align-max_over_generations-l1")));
        assertThat(browser.text("version-hint")).contains(b).contains("latest seen").doesNotContain(a);
        var select = new org.openqa.selenium.support.ui.Select(browser.byTestId("version-select").orElseThrow());
        assertThat(select.getOptions()).extracting(o -> o.getAttribute("value")).containsExactly("", b, a);

        select.selectByValue(a);
        browser.await("version A's own L1 once A is selected", WAIT,
                () -> "0.6000".equals(browser.text("align-max_over_generations-l1")));
        assertThat(browser.text("version-hint")).contains("version " + a).contains("latest seen: " + b);
        assertThat(browser.text("recent-hint")).contains(a);
        assertThat((String) browser.js("return location.hash")).contains("version=" + a);
    }

    /**
     * Every figure the page shows for this task/model equals the REST API's. The page polls, so a figure may lag
     * by one refresh: compare until both agree (or fail after the wait with the last difference).
     */
    /** The Grafana dashboard's series: the same all-time mean, and the distributions counter, at /q/metrics. */
    private void assertPrometheusShowsTheAlignment() {
        given().get("/q/health/ready").then().statusCode(200);
        String series = "labelscope_aggregator_alignment{method=\"max_over_generations\",metric=\"l1\",model=\""
                + MODEL + "\",task=\"" + TASK + "\"}";
        // The gauges refresh every few seconds: wait for the refresh that saw both documents.
        long deadline = System.currentTimeMillis() + 30_000;
        String metrics = "";
        Double shown = null;
        while (System.currentTimeMillis() < deadline) {
            metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
            shown = metrics.lines().filter(l -> l.startsWith(series)).findFirst()
                    .map(l -> Double.parseDouble(l.substring(series.length()).trim())).orElse(null);
            if (shown != null && Math.abs(shown - 0.65) < 1e-9) {
                break;
            }
            sleep(500);
        }
        assertThat(shown).as(series + " at /q/metrics").isNotNull().isCloseTo(0.65, within(1e-9));
        String counter = metrics.lines().filter(l -> l.startsWith("labelscope_aggregator_distributions_total"))
                .findFirst().orElseThrow(() -> new AssertionError("no distributions counter at /q/metrics"));
        assertThat(Double.parseDouble(counter.substring(counter.lastIndexOf(' ') + 1))).isGreaterThanOrEqualTo(2);
    }

    private void assertPageMatchesApi() {
        browser.await("the REST API's numbers", WAIT, () -> {
            JsonPath al = json("/metrics/alignment");
            JsonPath sp = json("/metrics/spikiness");
            JsonPath ov = parse(given().get("/api/overview").then().statusCode(200).extract().asString());
            for (String m : METHODS) {
                assertShown("align-" + m + "-documents", al.getDouble("all_time." + m + ".documents"));
                assertShown("align-" + m + "-nll", al.getDouble("all_time." + m + ".mean_nll"));
                assertShown("align-" + m + "-l1", al.getDouble("all_time." + m + ".mean_l1"));
                assertShown("align-" + m + "-f1", al.getDouble("all_time." + m + ".mean_example_f1"));
            }
            Map<String, Object> cells = sp.getMap("all_time");
            assertThat(cells).containsKeys("intermediate/0", "last/0", "last/1");
            for (String cell : cells.keySet()) {
                if (cell.equals("answer")) {
                    continue;
                }
                String id = "spik-" + cell.replace('/', '-');
                assertShown(id + "-n", sp.getDouble("all_time.'" + cell + "'.top1.n"));
                assertShown(id + "-top1", sp.getDouble("all_time.'" + cell + "'.top1.mean"));
                assertShown(id + "-entropy", sp.getDouble("all_time.'" + cell + "'.entropy_bits.mean"));
            }
            assertShown("rank-0-second-next", sp.getDouble("all_time.'intermediate/0'.second_predicted_next_rate"));
            assertThat(browser.text("rank-0-second-next")).isEqualTo(String.format(Locale.ROOT, "%.1f%%",
                    100 * sp.getDouble("all_time.'intermediate/0'.second_predicted_next_rate")));
            assertShown("kpi-aligned", ov.getDouble("counts.documents_aligned"));
            assertShown("kpi-documents", ov.getDouble("counts.documents_with_distribution"));
            assertShown("kpi-pending", ov.getDouble("counts.pending_runs"));
            return true;
        });
    }

    /** The page's raw value equals the API's, and the text shown is that value as the page formats it. */
    private void assertShown(String testId, double expected) {
        Double shown = browser.value(testId);
        assertThat(shown).as(testId + " (data-value)").isNotNull();
        assertThat(shown).as(testId).isCloseTo(expected, within(1e-12));
        String text = browser.text(testId).replace(",", "").replace("%", "");
        assertThat(Double.parseDouble(text)).as(testId + " as shown: " + browser.text(testId))
                .isCloseTo(testId.startsWith("rank-") ? 100 * expected : expected, within(5.1e-4));
    }

    private double refreshes() {
        return Double.parseDouble((String) browser.js(
                "return document.querySelector(\"[data-testid='last-updated']\").dataset.refreshes"));
    }

    private JsonPath awaitAlignmentDocuments(int documents) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonPath last = null;
        String lastAnswer = null;
        while (System.nanoTime() < deadline) {
            var r = given().queryParam("task", TASK).queryParam("model", MODEL).get("/metrics/alignment");
            lastAnswer = r.statusCode() + " " + r.asString();
            if (r.statusCode() == 200) {
                last = parse(r.asString());
                Object n = last.get("all_time.max_over_generations.documents");
                if (n instanceof Number num && num.intValue() == documents) {
                    return last;
                }
            }
            sleep(200);
        }
        throw new AssertionError("REST API never showed " + documents + " aligned documents; last answer: "
                + lastAnswer + "; /documents/dash-1: " + given().get("/documents/dash-1").asString()
                + "; /api/overview: " + given().get("/api/overview").asString() + "; dead letters: " + deadLetters()
                + "; loaders: " + loaders());
    }

    private static String loaders() {
        StringBuilder b = new StringBuilder();
        b.append("Annotation=").append(Annotation.class.getClassLoader());
        b.append(" SpecificData=").append(org.apache.avro.specific.SpecificData.class.getClassLoader());
        b.append(" SD.get=").append(org.apache.avro.specific.SpecificData.get().getClassLoader());
        b.append(" TCCL=").append(Thread.currentThread().getContextClassLoader());
        try {
            b.append(" forName=").append(Class.forName("io.labelscope.schemas.Annotation", false,
                    org.apache.avro.specific.SpecificData.get().getClassLoader()).getClassLoader());
        } catch (Throwable t) {
            b.append(" forName failed: ").append(t);
        }
        b.append(" cp-url=").append(Annotation.class.getProtectionDomain().getCodeSource());
        return b.toString();
    }

    /** What the aggregator rejected (for failure messages): each dead letter's readable bytes. */
    private static List<String> deadLetters() {
        Map<String, Object> c = new HashMap<>();
        c.put("bootstrap.servers", TestPlatform.get().bootstrapServers());
        c.put("group.id", "dashboard-test-" + System.nanoTime());
        c.put("auto.offset.reset", "earliest");
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(c,
                new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.StringDeserializer())) {
            consumer.subscribe(List.of(Topics.DEAD_LETTERS));
            List<String> out = new java.util.ArrayList<>();
            for (int i = 0; i < 10; i++) {
                consumer.poll(Duration.ofMillis(300)).forEach(r -> out.add(r.value().replaceAll("[^\\x20-\\x7e]", " ")));
            }
            return out;
        }
    }

    /** JSON with numbers as doubles (RestAssured's default, float, would round the API's values). */
    private static JsonPath parse(String body) {
        return new JsonPath(body).using(new io.restassured.path.json.config.JsonPathConfig(
                io.restassured.path.json.config.JsonPathConfig.NumberReturnType.DOUBLE));
    }

    private static JsonPath json(String path) {
        return parse(given().queryParam("task", TASK).queryParam("model", MODEL).get(path).then()
                .statusCode(200).extract().asString());
    }

    // ---- inputs ------------------------------------------------------------------------------------------------

    /** @param weights over joy, fear, anger, surprise, none; they sum to 10, logits are their logs */
    private void step(String doc, int step, int total, String generated, Instant at, double... weights) {
        Map<String, Double> logits = new LinkedHashMap<>();
        Map<String, Double> probs = new LinkedHashMap<>();
        for (int i = 0; i < weights.length; i++) {
            String name = i < LABELS.size() ? LABELS.get(i) : "none";
            logits.put(name, Math.log(weights[i]));
            probs.put(name, weights[i] / 10);
        }
        send(Topics.LABEL_STEPS, doc, LabelStep.newBuilder().setDocumentId(doc).setTask(TASK).setModel(MODEL)
                .setRunId("run-" + doc).setStep(step).setStepsTotal(total).setGeneratedLabel(generated)
                .setLogits(logits).setProbabilities(probs).setTokenIndex(3 + 4 * step).setProducedAt(at)
                .setLabels(LABELS).build(), at);
    }

    private void generation(String doc, int steps, Instant at, String... parsed) {
        send(Topics.GENERATIONS, doc, Generation.newBuilder().setDocumentId(doc).setTask(TASK).setModel(MODEL)
                .setRunId("run-" + doc).setRawOutput("Answer: " + String.join(", ", parsed)).setParsedLabels(List.of(parsed))
                .setStepsTotal(steps).setPromptTokens(120).setOutputTokens(8).setLatencyMs(40).setStopReason("eos")
                .setProducedAt(at).setLabels(LABELS).build(), at);
    }

    private void annotate(String doc, String annotator, Instant at, String... labels) {
        send(Topics.ANNOTATIONS, doc, Annotation.newBuilder().setDocumentId(doc).setTask(TASK)
                .setAnnotatorId(annotator).setLabels(List.of(labels)).setAnnotatedAt(at).build(), at);
    }

    private void send(String topic, String key, SpecificRecord value, Instant at) {
        try {
            producer.send(new ProducerRecord<>(topic, null, at.toEpochMilli(), key, value)).get();
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException("could not produce to " + topic, e);
        }
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
