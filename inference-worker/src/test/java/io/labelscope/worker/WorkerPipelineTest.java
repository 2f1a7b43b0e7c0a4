package io.labelscope.worker;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.hamcrest.Matchers.containsString;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import io.labelscope.platform.testing.RealKafkaTestResource;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.decode.LabelStepRecord;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;

/** The worker in this JVM against a real broker and registry, with a real (random-weight) model. */
@QuarkusTest
@QuarkusTestResource(RealKafkaTestResource.class)
@QuarkusTestResource(WorkerTestResource.class)
class WorkerPipelineTest {

    private static final Duration WAIT = Duration.ofSeconds(120);
    /** The model directory serving the test task: {@code <model.name>/<task>}. */
    private static final String MODEL = "demo/" + TestSupport.TASK;

    @Test
    void everyDocumentGetsItsStepsAndOneGenerationMatchingTheOfflineRuntime() throws Exception {
        TestPlatform p = TestPlatform.get();
        String prefix = "pipe-" + UUID.randomUUID() + "-";
        int n = 20;
        var sent = TestSupport.sendDocuments(p, prefix, TestSupport.TASK, n, 0);
        List<String> ids = new ArrayList<>(sent.keySet());
        List<String> texts = new ArrayList<>(sent.values());
        List<ConsumerRecord<String, Generation>> gens = TestSupport.readUntil(p, Topics.GENERATIONS, prefix, true, WAIT,
                l -> l.size() >= n);
        Map<String, List<Generation>> genById = gens.stream().map(ConsumerRecord::value)
                .collect(Collectors.groupingBy(g -> g.getDocumentId().toString()));
        assertThat(genById.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(genById.values()).allSatisfy(l -> assertThat(l).hasSize(1));
        int totalSteps = genById.values().stream().mapToInt(l -> l.get(0).getStepsTotal()).sum();
        List<ConsumerRecord<String, LabelStep>> steps = TestSupport.readUntil(p, Topics.LABEL_STEPS, prefix, true, WAIT,
                l -> l.size() >= totalSteps);
        Map<String, List<LabelStep>> stepsById = steps.stream().map(ConsumerRecord::value)
                .collect(Collectors.groupingBy(s -> s.getDocumentId().toString()));
        assertThat(totalSteps).as("the demo model writes label steps; answers: "
                + genById.values().stream().map(l -> l.get(0).getRawOutput().toString()).limit(6).toList()).isPositive();
        assertThat(steps).hasSize(totalSteps);

        // The same prompts through the runtime directly, offline, in one batch.
        Map<String, Object> report = new HashMap<>();
        try (LlmModel model = LlmModel.load(TestSupport.model(), RuntimeConfig.cpu());
             LabelDecoder decoder = new LabelDecoder(model, TestSupport.task(), true)) {
            List<GenerationResult> offline = decoder.classify(texts);
            for (int i = 0; i < n; i++) {
                GenerationResult want = offline.get(i);
                Generation got = genById.get(ids.get(i)).get(0);
                assertThat(got.getRawOutput().toString()).isEqualTo(want.answer());
                assertThat(got.getParsedLabels().stream().map(Object::toString).toList()).isEqualTo(want.parsedLabels());
                assertThat(got.getStepsTotal()).isEqualTo(want.steps().size());
                assertThat(got.getPromptTokens()).isEqualTo(want.promptTokens());
                assertThat(got.getOutputTokens()).isEqualTo(want.generatedTokens());
                assertThat(got.getModel().toString()).isEqualTo(MODEL);
                assertThat(got.getRunId().toString()).isEqualTo(RunIds.of(ids.get(i), MODEL, TestSupport.task()));
                List<LabelStep> docSteps = new ArrayList<>(stepsById.getOrDefault(ids.get(i), List.of()));
                docSteps.sort(Comparator.comparingInt(LabelStep::getStep));
                assertThat(docSteps).hasSize(want.steps().size());
                for (int s = 0; s < docSteps.size(); s++) {
                    LabelStep ls = docSteps.get(s);
                    LabelStepRecord w = want.steps().get(s);
                    assertThat(ls.getStep()).isEqualTo(s);
                    assertThat(ls.getStepsTotal()).isEqualTo(want.steps().size());
                    assertThat(ls.getRunId().toString()).isEqualTo(got.getRunId().toString());
                    assertThat(ls.getTokenIndex()).isEqualTo(w.tokenIndex());
                    assertThat(ls.getGeneratedLabel() == null ? null : ls.getGeneratedLabel().toString())
                            .isEqualTo(w.generatedLabel());
                    assertThat(ls.getLabels().stream().map(Object::toString).toList())
                            .isEqualTo(TestSupport.task().labels());
                    List<String> scored = TestSupport.task().scoredLabels();
                    Map<String, Double> probs = new HashMap<>();
                    ls.getProbabilities().forEach((k, v) -> probs.put(k.toString(), v));
                    Map<String, Double> logits = new HashMap<>();
                    ls.getLogits().forEach((k, v) -> logits.put(k.toString(), v));
                    assertThat(probs.keySet()).containsExactlyInAnyOrderElementsOf(scored);
                    for (int k = 0; k < scored.size(); k++) {
                        assertThat(probs.get(scored.get(k))).isCloseTo(w.probabilities()[k], within(1e-5));
                        assertThat(logits.get(scored.get(k))).isCloseTo(w.rawLogits()[k], within(1e-3));
                    }
                }
            }
            report.put("steps", totalSteps);
        }
        System.out.println("pipeline test: " + n + " documents, " + report);
    }

    @Test
    void poisonRecordsOfEveryKindGoToDeadLettersAndTheDocumentsAroundThemAreProcessed() throws Exception {
        TestPlatform p = TestPlatform.get();
        String prefix = "poison-" + UUID.randomUUID() + "-";
        Map<String, String> expectedType = new HashMap<>();
        Map<String, byte[]> originalValue = new HashMap<>();
        List<String> valid = new ArrayList<>();
        byte[] notAvro = "{\"id\": \"json is not avro\"}".getBytes(StandardCharsets.UTF_8);
        byte[] unknownSchema = ByteBuffer.allocate(9).put((byte) 0).putInt(987_654_321).putInt(42).array();
        try (KafkaProducer<String, SpecificRecord> avro = TestSupport.avroProducer(p);
             KafkaProducer<byte[], byte[]> raw = TestSupport.rawProducer(p)) {
            int i = 0;
            for (String[] poison : new String[][] {
                    {"undecodable", "not-avro"}, {"undecodable", "unknown-schema"}, {"unknown_task", "x"},
                    {"empty_text", ""}, {"empty_text", "   \n\t "}, {"too_long", "x"}, {"model_failure", "x"},
                    {"model_failure", "no-model"}}) {
                String ok = prefix + "valid-" + i;
                avro.send(new ProducerRecord<>(WorkerTestResource.DOCUMENTS, ok, TestSupport.doc(ok, TestSupport.text(i))));
                valid.add(ok);
                String id = prefix + "bad-" + i + "-" + poison[0];
                expectedType.put(id, poison[0]);
                switch (poison[0]) {
                    case "undecodable" -> {
                        byte[] v = poison[1].equals("not-avro") ? notAvro : unknownSchema;
                        originalValue.put(id, v);
                        raw.send(new ProducerRecord<>(WorkerTestResource.DOCUMENTS, TestSupport.utf8(id), v));
                    }
                    case "unknown_task" -> avro.send(new ProducerRecord<>(WorkerTestResource.DOCUMENTS, id,
                            io.labelscope.schemas.Document.newBuilder(TestSupport.doc(id, "fine text"))
                                    .setTask("no-such-task").build()));
                    case "empty_text" -> avro.send(new ProducerRecord<>(WorkerTestResource.DOCUMENTS, id,
                            TestSupport.doc(id, poison[1])));
                    case "too_long" -> avro.send(new ProducerRecord<>(WorkerTestResource.DOCUMENTS, id,
                            TestSupport.doc(id, "a very long comment, ".repeat(300))));
                    case "model_failure" -> avro.send(new ProducerRecord<>(WorkerTestResource.DOCUMENTS, id,
                            poison[1].equals("no-model")
                                    ? io.labelscope.schemas.Document.newBuilder(TestSupport.doc(id, "fine text"))
                                            .setTask(TestSupport.taskWithoutModel().name()).build()
                                    : TestSupport.doc(id, "this one breaks " + TestSupport.FAIL_TEXT)));
                    default -> throw new IllegalStateException();
                }
                i++;
            }
            String last = prefix + "valid-last";
            avro.send(new ProducerRecord<>(WorkerTestResource.DOCUMENTS, last, TestSupport.doc(last, "the end, happy")));
            valid.add(last);
        }
        List<ConsumerRecord<String, DeadLetter>> dead = TestSupport.readUntil(p, Topics.DEAD_LETTERS, prefix, true, WAIT,
                l -> l.size() >= expectedType.size());
        Map<String, DeadLetter> deadById = new HashMap<>();
        for (ConsumerRecord<String, DeadLetter> r : dead) {
            assertThat(deadById.put(r.key(), r.value())).as("one dead letter per record: " + r.key()).isNull();
        }
        assertThat(deadById.keySet()).containsExactlyInAnyOrderElementsOf(expectedType.keySet());
        for (Map.Entry<String, DeadLetter> e : deadById.entrySet()) {
            DeadLetter d = e.getValue();
            String type = expectedType.get(e.getKey());
            assertThat(d.getErrorType().toString()).as(e.getKey()).isEqualTo(type);
            assertThat(d.getSourceTopic().toString()).isEqualTo(WorkerTestResource.DOCUMENTS);
            assertThat(d.getRejectedBy().toString()).isEqualTo("inference-worker");
            assertThat(d.getValue()).isNotNull();
            byte[] value = new byte[d.getValue().remaining()];
            d.getValue().duplicate().get(value);
            if (originalValue.containsKey(e.getKey())) {
                assertThat(value).isEqualTo(originalValue.get(e.getKey()));
            }
            String reason = d.getReason().toString();
            switch (type) {
                case "undecodable" -> assertThat(reason).containsAnyOf("not Confluent-format Avro", "unknown schema id");
                case "unknown_task" -> assertThat(reason).contains("no-such-task").contains("not registered");
                case "empty_text" -> assertThat(reason).contains("nothing to classify");
                case "too_long" -> assertThat(reason).contains("context window of 512");
                case "model_failure" -> assertThat(reason).satisfiesAnyOf(
                        r -> assertThat(r).contains("model failed").contains("injected"),
                        r -> assertThat(r).contains("no model serves task 'task-without-model'"));
                default -> throw new IllegalStateException(type);
            }
        }
        List<ConsumerRecord<String, Generation>> gens = TestSupport.readUntil(p, Topics.GENERATIONS, prefix, true, WAIT,
                l -> l.size() >= valid.size());
        assertThat(gens.stream().map(ConsumerRecord::key).toList()).containsExactlyInAnyOrderElementsOf(valid);

        // Metrics count what was committed, dead letters by reason.
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        for (String type : new String[] {"undecodable", "unknown_task", "empty_text", "too_long", "model_failure"}) {
            double count = Arrays.stream(metrics.split("\n"))
                    .filter(l -> l.startsWith("labelscope_worker_dead_letters_total{") && l.contains("\"" + type + "\""))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
            assertThat(count).as(type).isGreaterThanOrEqualTo(1.0);
        }
    }

    /**
     * Issue #13: a record of another schema, a record with bytes after it, one with a string that is not UTF-8 and
     * one whose processing throws (a worker bug), in the middle of a backlog: each becomes exactly one dead letter of
     * its type, and every good document around them exactly one generation and its steps (read_committed), within
     * a bounded time. Before the fix the Annotation was cast to a Document and its batch retried forever.
     */
    @Test
    void poisonRecordsInTheMiddleOfABacklogAreIsolatedAndEveryGoodDocumentIsProcessedOnce() throws Exception {
        TestPlatform p = TestPlatform.get();
        String prefix = "isolate-" + UUID.randomUUID() + "-";
        String topic = WorkerTestResource.DOCUMENTS;
        Map<String, String> expectedType = new HashMap<>();
        List<String> good = new ArrayList<>();
        long sentAt;
        try (KafkaProducer<String, SpecificRecord> avro = TestSupport.avroProducer(p);
             KafkaProducer<byte[], byte[]> raw = TestSupport.rawProducer(p)) {
            String[] poisons = {"wrong_record_type", "trailing_bytes", "invalid_utf8", "processing_failed"};
            for (int i = 0; i < 24; i++) {
                String ok = prefix + "good-" + i;
                avro.send(new ProducerRecord<>(topic, ok, TestSupport.doc(ok, TestSupport.text(100 + i))));
                good.add(ok);
                if (i % 6 != 5) {
                    continue;
                }
                String type = poisons[i / 6];
                String id = prefix + "bad-" + type;
                expectedType.put(id, type);
                switch (type) {
                    case "wrong_record_type" -> raw.send(new ProducerRecord<>(topic, TestSupport.utf8(id),
                            TestSupport.avroBytes(p, Topics.ANNOTATIONS, io.labelscope.schemas.Annotation.newBuilder()
                                    .setDocumentId(id).setTask(TestSupport.TASK).setAnnotatorId("a1")
                                    .setLabels(List.of("joy")).setAnnotatedAt(java.time.Instant.now()).build())));
                    case "trailing_bytes" -> {
                        byte[] v = TestSupport.avroBytes(p, topic, TestSupport.doc(id, "a fine text"));
                        raw.send(new ProducerRecord<>(topic, TestSupport.utf8(id), Arrays.copyOf(v, v.length + 2)));
                    }
                    case "invalid_utf8" -> {
                        byte[] v = TestSupport.avroBytes(p, topic, TestSupport.doc(id, "caf\u00e9 au lait"));
                        byte[] e = "\u00e9".getBytes(StandardCharsets.UTF_8);
                        for (int b = 0; b + 1 < v.length; b++) {
                            if (v[b] == e[0] && v[b + 1] == e[1]) {
                                v[b + 1] = '('; // a two-byte lead followed by ASCII: not UTF-8
                            }
                        }
                        raw.send(new ProducerRecord<>(topic, TestSupport.utf8(id), v));
                    }
                    case "processing_failed" -> avro.send(new ProducerRecord<>(topic, id,
                            TestSupport.doc(id, "this one trips a bug " + TestSupport.THROW_TEXT)));
                    default -> throw new IllegalStateException(type);
                }
            }
            avro.flush();
            raw.flush();
            sentAt = System.nanoTime();
        }
        List<ConsumerRecord<String, Generation>> gens = TestSupport.readUntil(p, Topics.GENERATIONS, prefix, true, WAIT,
                l -> l.size() >= good.size());
        double seconds = (System.nanoTime() - sentAt) / 1e9;
        Map<String, List<Generation>> genById = gens.stream().map(ConsumerRecord::value)
                .collect(Collectors.groupingBy(g -> g.getDocumentId().toString()));
        assertThat(genById.keySet()).as("the good documents got generations, and nothing else did")
                .containsExactlyInAnyOrderElementsOf(good);
        assertThat(genById.values()).allSatisfy(l -> assertThat(l).as("one generation per document").hasSize(1));
        int totalSteps = genById.values().stream().mapToInt(l -> l.get(0).getStepsTotal()).sum();
        List<ConsumerRecord<String, LabelStep>> steps = TestSupport.readUntil(p, Topics.LABEL_STEPS, prefix, true,
                WAIT, l -> l.size() >= totalSteps);
        assertThat(steps).as("each good document's steps, once").hasSize(totalSteps);
        List<ConsumerRecord<String, DeadLetter>> dead = TestSupport.readUntil(p, Topics.DEAD_LETTERS, prefix, true,
                WAIT, l -> l.size() >= expectedType.size());
        Map<String, String> deadTypes = new HashMap<>();
        for (ConsumerRecord<String, DeadLetter> r : dead) {
            assertThat(deadTypes.put(r.key(), r.value().getErrorType().toString()))
                    .as("one dead letter per bad record: " + r.key()).isNull();
            String reason = r.value().getReason().toString();
            switch (r.value().getErrorType().toString()) {
                case "wrong_record_type" -> assertThat(reason).contains("io.labelscope.schemas.Annotation",
                        "io.labelscope.schemas.Document");
                case "trailing_bytes" -> assertThat(reason).contains("2 byte(s) follow");
                case "invalid_utf8" -> assertThat(reason).contains("not valid UTF-8");
                case "processing_failed" -> assertThat(reason).contains("3 attempts", "injected processing failure");
                default -> throw new AssertionError("unexpected dead letter " + r.value());
            }
        }
        assertThat(deadTypes).isEqualTo(expectedType);
        System.out.printf("isolation test: %d good documents and %d poison records done %.1f s after sending%n",
                good.size(), expectedType.size(), seconds);
    }

    @Test
    void healthAndMetricsAreServed() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200).body(containsString(MODEL));
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("labelscope_worker_documents_total"))
                .body(containsString("labelscope_worker_consumer_lag"))
                .body(containsString("labelscope_worker_end_to_end_seconds_bucket"))
                .body(containsString("labelscope_worker_batch_size"))
                .body(containsString("labelscope_worker_steps_per_document"));
    }

    @Inject
    WorkerService worker;

    @Test
    void everyOutputCarriesTheTaskVersionAndAnotherPromptOnTheSameDocumentsGivesAnother() throws Exception {
        TestPlatform p = TestPlatform.get();
        // spare-task: a task of this test's own (served by its checkpoint in the per-task layout), so re-registering
        // it changes no prompt another test compares against.
        TaskDefinition t = TestSupport.task();
        TaskDefinition first = new TaskDefinition("spare-task", t.labels(), t.instructionTemplate(), t.demoTemplate(),
                t.queryTemplate(), t.format(), t.k(), t.seed(), t.demoPool(), t.extraVariants(), t.compatCode(),
                t.maxNewTokens());
        TaskDefinition second = new TaskDefinition("spare-task", t.labels(),
                t.instructionTemplate().replace("Output exactly these emotions and no others.", "Use only these."),
                t.demoTemplate(), t.queryTemplate(), t.format(), t.k(), t.seed(), t.demoPool(), t.extraVariants(),
                t.compatCode(), t.maxNewTokens());
        assertThat(second).isNotEqualTo(first);
        String prefix = "versions-" + UUID.randomUUID() + "-";
        int n = 3;
        Map<String, List<SpecificRecord>> byVersion = new HashMap<>();
        for (TaskDefinition task : List.of(first, second)) {
            registerAndWaitUntilTheWorkerHasIt(p, task);
            // The same document ids and texts under both prompts.
            TestSupport.sendDocuments(p, prefix, "spare-task", n, 60);
            String version = TaskFiles.version(task);
            List<ConsumerRecord<String, Generation>> gens = TestSupport.readUntil(p, Topics.GENERATIONS, prefix,
                    true, WAIT, l -> l.stream().filter(r -> version.equals(str(r.value().getTaskVersion())))
                            .count() >= n);
            List<Generation> mine = gens.stream().map(ConsumerRecord::value)
                    .filter(g -> version.equals(str(g.getTaskVersion()))).toList();
            assertThat(mine).as("generations of version " + version).hasSize(n);
            int steps = mine.stream().mapToInt(Generation::getStepsTotal).sum();
            List<LabelStep> mySteps = TestSupport.<LabelStep>readUntil(p, Topics.LABEL_STEPS, prefix, true, WAIT,
                    l -> l.stream().filter(r -> version.equals(str(r.value().getTaskVersion()))).count() >= steps)
                    .stream().map(ConsumerRecord::value).filter(s -> version.equals(str(s.getTaskVersion()))).toList();
            assertThat(mySteps).hasSize(steps);
            // Every step of a run carries its generation's version: no record of the run lacks it.
            assertThat(mySteps).allSatisfy(s -> assertThat(mine.stream().map(g -> g.getRunId().toString()))
                    .contains(s.getRunId().toString()));
            List<SpecificRecord> all = new ArrayList<>(mine);
            all.addAll(mySteps);
            byVersion.put(version, all);
        }
        assertThat(byVersion).hasSize(2);
        // The version is what separates the two prompts downstream; the run ids of one document differ as well.
        List<List<String>> runIds = byVersion.values().stream().map(l -> l.stream()
                .filter(r -> r instanceof Generation).map(r -> ((Generation) r).getRunId().toString()).sorted()
                .toList()).toList();
        assertThat(runIds.get(0)).doesNotContainAnyElementsOf(runIds.get(1));
        List<ConsumerRecord<String, Generation>> everything = TestSupport.readUntil(p, Topics.GENERATIONS, prefix,
                true, Duration.ofSeconds(2), l -> false);
        assertThat(everything).extracting(r -> str(r.value().getTaskVersion()))
                .containsOnly(TaskFiles.version(first), TaskFiles.version(second));
    }

    private void registerAndWaitUntilTheWorkerHasIt(TestPlatform p, TaskDefinition task) throws Exception {
        TestSupport.registerTask(p, task);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (worker.tasks().entries().stream().noneMatch(e -> task.equals(e.task()))) {
            assertThat(System.nanoTime()).as("the worker reads the re-registered task").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static String str(CharSequence s) {
        return s == null ? null : s.toString();
    }
}
