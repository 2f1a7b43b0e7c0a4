package io.labelscope.worker;

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
import java.util.Properties;
import java.util.function.Predicate;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import io.labelscope.platform.TopicDefinition;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import io.labelscope.runtime.task.TaskMethod;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.Decoded;

/** Real parts for the worker's tests: the committed demo model and task, real texts, producers and readers. */
final class TestSupport {
    static final String TASK = "emotions-test";
    /** The test task with every method: generate, unary and binary breakdowns. */
    static final String BREAKDOWN_TASK = "emotions-breakdown-test";
    /** Text marker the tests configure as labelscope.worker.fault-injection-fail-text. */
    static final String FAIL_TEXT = "<<model-failure-please>>";
    /** Text marker the tests configure as labelscope.worker.fault-injection-throw-text. */
    static final String THROW_TEXT = "<<processing-bug-please>>";

    private TestSupport() {}

    /** The packaged worker for process-level tests: failsafe names it; the default suits a run in this module. */
    static Path workerJar() {
        return Path.of(System.getProperty("labelscope.worker.jar", "target/quarkus-app/quarkus-run.jar"));
    }

    /** The committed GoEmotions demo checkpoint (models/demo/goemotions): a real model, trained by demo-model. */
    static Path model() {
        Path dir = Path.of("..", "models", "demo", "goemotions").toAbsolutePath().normalize();
        if (!Files.isRegularFile(dir.resolve("model.safetensors"))) {
            throw new IllegalStateException("the demo model is missing at " + dir);
        }
        return dir;
    }

    /**
     * The demo layout, one checkpoint per task named after it: {@code target/test-models/<TASK>} and
     * {@code target/test-models/spare-task}, both copies of the demo checkpoint {@link #model()}.
     */
    static synchronized Path perTaskModels() throws Exception {
        Path root = Path.of("target", "test-models").toAbsolutePath();
        for (String task : new String[] {TASK, BREAKDOWN_TASK, "spare-task"}) {
            Path dir = root.resolve(task);
            // Copied every run, so a changed checkpoint never leaves a stale copy behind.
            Files.createDirectories(dir);
            try (var files = Files.list(model())) {
                for (Path f : files.toList()) {
                    Files.copy(f, dir.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return root;
    }

    /** A valid task that no model of {@link #perTaskModels()} serves. */
    static TaskDefinition taskWithoutModel() {
        TaskDefinition t = task();
        return new TaskDefinition("task-without-model", t.labels(), t.instructionTemplate(), t.demoTemplate(),
                t.queryTemplate(), t.format(), t.k(), t.seed(), t.demoPool(), t.extraVariants(), t.compatCode(),
                t.maxNewTokens());
    }

    /**
     * The test task: the committed GoEmotions task definition (zero-shot, JSON answer list, the 7 clusters), the one
     * the demo model was trained on, under the test's own name.
     */
    static TaskDefinition task() {
        try {
            TaskDefinition t = TaskFiles.read(Path.of("..", "tasks", "goemotions.json"));
            return new TaskDefinition(TASK, t.labels(), t.instructionTemplate(), t.demoTemplate(), t.queryTemplate(),
                    t.format(), t.k(), t.seed(), t.demoPool(), t.extraVariants(), t.compatCode(), t.maxNewTokens());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** {@link #task()} under {@link #BREAKDOWN_TASK}, running generate, unary and binary (the paper's prompts). */
    static TaskDefinition breakdownTask() {
        TaskDefinition t = task();
        return new TaskDefinition(BREAKDOWN_TASK, t.labels(), t.instructionTemplate(), t.demoTemplate(),
                t.queryTemplate(), t.format(), t.k(), t.seed(), t.demoPool(), t.extraVariants(), t.compatCode(),
                t.maxNewTokens(), t.breakdown().withMethods(List.of(TaskMethod.GENERATE, TaskMethod.UNARY,
                        TaskMethod.BINARY)));
    }

    static void ensureTopics(TestPlatform p, String documentsTopic, int partitions) {
        List<TopicDefinition> defs = new ArrayList<>();
        for (Topics.TopicSpec t : Topics.ALL) {
            if (!t.name().equals(Topics.DOCUMENTS)) {
                defs.add(new TopicDefinition(t.name(), t.compacted(), t.valueSubject(), t.valueSchema().toString()));
            }
        }
        defs.add(new TopicDefinition(documentsTopic, false, documentsTopic + "-value",
                Document.getClassSchema().toString()));
        defs.add(new TopicDefinition(Topics.TASKS, true, null, null));
        p.ensureTopics(defs, partitions);
    }

    static void registerTask(TestPlatform p, TaskDefinition t) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", p.bootstrapServers());
        try (KafkaProducer<String, String> prod = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer())) {
            prod.send(new ProducerRecord<>(Topics.TASKS, t.name(), TaskFiles.toJson(t))).get();
        }
    }

    static KafkaProducer<String, SpecificRecord> avroProducer(TestPlatform p) {
        Map<String, Object> c = new HashMap<>(AvroSerdeConfig.producer(p.registryUrl()));
        c.putAll(KafkaSettings.serde(p.registryUrl()));
        c.put("bootstrap.servers", p.bootstrapServers());
        return new KafkaProducer<>(c);
    }

    /** A record's value bytes exactly as a producer would write them to {@code topic} (real serializer and registry). */
    static byte[] avroBytes(TestPlatform p, String topic, SpecificRecord record) {
        try (io.apicurio.registry.serde.avro.AvroKafkaSerializer<SpecificRecord> s =
                     new io.apicurio.registry.serde.avro.AvroKafkaSerializer<>()) {
            s.configure(KafkaSettings.serde(p.registryUrl()), false);
            return s.serialize(topic, record);
        }
    }

    static KafkaProducer<byte[], byte[]> rawProducer(TestPlatform p) {
        Properties props = new Properties();
        props.put("bootstrap.servers", p.bootstrapServers());
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    static Document doc(String id, String text) {
        return doc(id, TASK, text);
    }

    static Document doc(String id, String task, String text) {
        return Document.newBuilder().setId(id).setTask(task).setText(text).setSubmittedAt(Instant.now()).build();
    }

    /**
     * Sends {@code n} documents of a task to the worker's input topic, ids {@code prefix + i}, texts
     * {@link #text(int)} from {@code firstText} on; returns the texts by id, in sending order.
     */
    static LinkedHashMap<String, String> sendDocuments(TestPlatform p, String prefix, String task, int n,
                                                                int firstText) {
        LinkedHashMap<String, String> sent = new LinkedHashMap<>();
        try (KafkaProducer<String, SpecificRecord> prod = avroProducer(p)) {
            for (int i = 0; i < n; i++) {
                String id = prefix + i;
                sent.put(id, text(firstText + i));
                prod.send(new ProducerRecord<>(WorkerTestResource.DOCUMENTS, id, doc(id, task, sent.get(id))));
            }
        }
        return sent;
    }

    /** Real GoEmotions dev comments (data/goemotions/dev.tsv), in file order. */
    static String text(int i) {
        return DEV_TEXTS.get(i % DEV_TEXTS.size());
    }

    private static final List<String> DEV_TEXTS = devTexts();

    private static List<String> devTexts() {
        try (var lines = Files.lines(Path.of("..", "data", "goemotions", "dev.tsv"))) {
            return lines.limit(500).map(l -> l.split("\t", -1)[0]).filter(t -> !t.isBlank()).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** All records of a topic whose key starts with a prefix, read until {@code done} holds or the time is up. */
    static <T> List<ConsumerRecord<String, T>> readUntil(TestPlatform p, String topic, String keyPrefix,
            boolean committedOnly, Duration timeout, Predicate<List<ConsumerRecord<String, T>>> done) {
        Map<String, Object> c = new HashMap<>(AvroSerdeConfig.consumer(p.registryUrl()));
        c.putAll(KafkaSettings.serde(p.registryUrl()));
        c.put("bootstrap.servers", p.bootstrapServers());
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, committedOnly ? "read_committed" : "read_uncommitted");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        List<ConsumerRecord<String, T>> out = new ArrayList<>();
        try (KafkaConsumer<String, Decoded<T>> consumer = new KafkaConsumer<>(c)) {
            List<TopicPartition> parts = new ArrayList<>();
            for (PartitionInfo pi : consumer.partitionsFor(topic)) {
                parts.add(new TopicPartition(topic, pi.partition()));
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, Decoded<T>> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() != null && r.key().startsWith(keyPrefix)) {
                        if (!(r.value() instanceof Decoded.Ok<T> ok)) {
                            throw new AssertionError("undecodable output at " + r.topic() + "@" + r.offset() + ": "
                                    + ((Decoded.Undecodable<T>) r.value()).reason());
                        }
                        out.add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), r.key(), ok.value()));
                    }
                }
                if (done.test(out)) {
                    // Read to the end once more, so that a duplicate arriving late would be seen too.
                    for (int i = 0; i < 3; i++) {
                        for (ConsumerRecord<String, Decoded<T>> r : consumer.poll(Duration.ofMillis(300))) {
                            if (r.key() != null && r.key().startsWith(keyPrefix) && r.value() instanceof Decoded.Ok<T> ok) {
                                out.add(new ConsumerRecord<>(r.topic(), r.partition(), r.offset(), r.key(), ok.value()));
                            }
                        }
                    }
                    return out;
                }
            }
        }
        return out;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
