package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.common.utils.Utils;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * Annotations written by a real non-Java client are counted (issue #13): Confluent's Python client
 * (Debian's {@code python3-confluent-kafka}, librdkafka with its default partitioner, CRC32 of the key) produces
 * them, keyed by document id, from a child process ({@code src/test/resources/python/produce_annotations.py});
 * the document's steps and generations come from Java (murmur2), as the worker writes them. On the real broker
 * with {@link PlatformWithTopics#PARTITIONS} partitions most keys land on different partitions under the two
 * hashes, so without the aggregator's repartition by document id those annotations never reach their document.
 * Asserted on {@code distributions} read with read_committed: every document's annotator count and human
 * distribution.
 */
@QuarkusTest
@QuarkusTestResource(value = PlatformWithTopics.class, restrictToAnnotatedClass = true)
class PythonClientAnnotationsTest {

    /** The Python producer's input lines and its report of where each annotation went. */
    private static final ObjectMapper JSON = new ObjectMapper();

    static final int DOCUMENTS = 24;
    /** The child process's own bound (its acknowledgements) plus its start on a busy machine. */
    static final Duration PYTHON_WAIT = Duration.ofSeconds(90);
    /** Debian's interpreter, which the Debian packages are installed for (not a pyenv or venv one). */
    static final String PYTHON = System.getProperty("labelscope.python", "/usr/bin/python3");

    @ConfigProperty(name = "quarkus.kafka-streams.bootstrap-servers")
    String bootstrapServers;

    @ConfigProperty(name = "labelscope.registry.url")
    String registryUrl;

    @Test
    void annotationsFromLibrdkafkasDefaultPartitionerAreCounted() throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String model = "m-python-" + tag;
        String prefix = "py-" + tag + "-";
        try (BrokerPipeline pipeline = new BrokerPipeline(bootstrapServers, registryUrl)) {
            // Steps and generations from Java, keyed by document id (murmur2), as the worker writes them.
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < DOCUMENTS; i++) {
                String doc = prefix + i;
                ids.add(doc);
                pipeline.sendLater(Topics.LABEL_STEPS, doc, Records.step(model, doc, 0, 2, "joy", 6, 2, 1, 1),
                        Records.T0);
                pipeline.sendLater(Topics.LABEL_STEPS, doc, Records.step(model, doc, 1, 2, "fear", 1, 7, 1, 1),
                        Records.T0);
                pipeline.sendLater(Topics.GENERATIONS, doc, Records.generation(model, doc, 2, Records.T0, "joy",
                        "fear"), Records.T0);
            }
            pipeline.flush();
            awaitLatest(pipeline, prefix, ids, d -> true, "a distribution");

            // Document i gets 1 + i % 3 annotators: the first votes joy, the others fear.
            Map<String, Integer> expected = new LinkedHashMap<>();
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < DOCUMENTS; i++) {
                String doc = ids.get(i);
                int annotators = 1 + i % 3;
                expected.put(doc, annotators);
                for (int a = 0; a < annotators; a++) {
                    lines.add(JSON.writeValueAsString(Map.of("document_id", doc, "task", Records.TASK,
                            "annotator_id", "py-ann-" + a, "labels", List.of(a == 0 ? "joy" : "fear"),
                            "annotated_at", Records.T0.toEpochMilli())));
                }
            }
            Map<String, Integer> pythonPartitions = producePython(lines);

            // The test means something only if the two partitioners disagree on some of these keys.
            Map<String, String> moved = new TreeMap<>();
            for (String doc : ids) {
                int javaPartition = Utils.toPositive(Utils.murmur2(doc.getBytes(StandardCharsets.UTF_8)))
                        % PlatformWithTopics.PARTITIONS;
                assertThat(pythonPartitions).as("acknowledged partitions").containsKey(doc);
                if (pythonPartitions.get(doc) != javaPartition) {
                    moved.put(doc, "python " + pythonPartitions.get(doc) + ", java " + javaPartition);
                }
            }
            assertThat(moved).as("documents whose annotations librdkafka put on another partition than their "
                    + "steps").isNotEmpty();
            System.out.printf("python client: %d of %d documents' annotations on another partition than their "
                    + "steps%n", moved.size(), DOCUMENTS);

            long acknowledged = System.nanoTime();
            Map<String, DocumentDistribution> latest = awaitLatest(pipeline, prefix, ids,
                    d -> d.getAnnotators() == expected.get(d.getDocumentId()), "every annotator counted");
            System.out.printf("python client: every annotator of %d documents counted %.2f s after the last "
                    + "acknowledgement (%.1f s settle included)%n", DOCUMENTS,
                    (System.nanoTime() - acknowledged) / 1e9, BrokerPipeline.SETTLE.toMillis() / 1e3);
            Map<String, String> wrong = new TreeMap<>();
            for (String doc : ids) {
                DocumentDistribution d = latest.get(doc);
                int n = expected.get(doc);
                Map<String, Double> h = d.getHuman();
                boolean humanRight = h != null && Math.abs(h.get("joy") - 1.0 / n) < 1e-12
                        && Math.abs(h.get("fear") - (n - 1.0) / n) < 1e-12 && h.get("anger") == 0.0;
                if (d.getAnnotators() != n || !humanRight) {
                    wrong.put(doc, d.getAnnotators() + " of " + n + " annotators, H = " + d.getHuman()
                            + (moved.containsKey(doc) ? " (" + moved.get(doc) + ")" : " (same partition)"));
                }
            }
            assertThat(wrong).as("documents whose annotations were not all counted").isEmpty();
        }
    }

    /**
     * Waits (bounded by {@link BrokerPipeline#WAIT}) until the latest distribution of every document satisfies
     * {@code until}, and returns the latest ones (those that never did included, for the assertions).
     */
    private static Map<String, DocumentDistribution> awaitLatest(BrokerPipeline pipeline, String prefix,
                                                                 List<String> ids,
                                                                 Predicate<DocumentDistribution> until,
                                                                 String what) throws InterruptedException {
        long deadline = System.nanoTime() + BrokerPipeline.WAIT.toNanos();
        while (true) {
            Map<String, DocumentDistribution> latest = new TreeMap<>();
            for (DocumentDistribution d : pipeline.distributionsWithPrefix(prefix)) {
                latest.merge(d.getDocumentId(), d, (a, b) -> b.getVersion() > a.getVersion() ? b : a);
            }
            boolean done = latest.keySet().containsAll(ids) && latest.values().stream().allMatch(until);
            if (done || System.nanoTime() > deadline) {
                assertThat(latest.keySet()).as("documents with a distribution (waiting for " + what + ")")
                        .containsAll(ids);
                if (done) {
                    Thread.sleep(BrokerPipeline.SETTLE.toMillis()); // a later, wrong version would come by now
                }
                return latest;
            }
            Thread.sleep(50);
        }
    }

    /** Runs the Python producer on these JSON lines; returns the partition each document's records went to. */
    private Map<String, Integer> producePython(List<String> lines) throws IOException, InterruptedException,
            URISyntaxException {
        assertThat(Path.of(PYTHON)).as("Debian's python3 with python3-confluent-kafka, python3-avro and "
                + "python3-requests (run .ci/install-system-packages; another interpreter: -Dlabelscope.python=…)")
                .isExecutable();
        Path script = Path.of(getClass().getResource("/python/produce_annotations.py").toURI());
        Path dir = Files.createTempDirectory("python-annotations-");
        Path schema = Files.writeString(dir.resolve("annotation.avsc"), Annotation.getClassSchema().toString());
        Path input = Files.write(dir.resolve("annotations.jsonl"), lines);
        Path partitions = dir.resolve("partitions.json");
        Path log = dir.resolve("python.log");
        Process p = new ProcessBuilder(PYTHON, script.toString(),
                "--bootstrap-servers", bootstrapServers,
                "--registry-url", registryUrl.replaceAll("/+$", "") + AvroSerdeConfig.CONFLUENT_API_PATH,
                "--topic", Topics.ANNOTATIONS, "--schema", schema.toString(), "--input", input.toString(),
                "--partitions-out", partitions.toString(), "--timeout-s", "60")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(PYTHON_WAIT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the Python producer did not finish within " + PYTHON_WAIT.toSeconds()
                    + " s:\n" + Files.readString(log));
        }
        String output = Files.readString(log);
        assertThat(p.exitValue()).as("the Python producer's exit status; its output:\n" + output).isZero();
        System.out.print(output);
        return JSON.readValue(partitions.toFile(), new TypeReference<Map<String, Integer>>() {
        });
    }
}
