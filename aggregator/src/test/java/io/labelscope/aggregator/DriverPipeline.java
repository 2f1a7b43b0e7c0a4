package io.labelscope.aggregator;

import io.labelscope.aggregator.metrics.WindowSpec;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.labelscope.math.Conventions;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.SpikinessMetric;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;

/** The topology in a TopologyTestDriver; Avro goes through the real registry of the test platform. */
final class DriverPipeline implements Pipeline, AutoCloseable {

    /** The commit interval, which is also the assembler's metric flush interval (a wall-clock punctuation). */
    static final java.time.Duration FLUSH = java.time.Duration.ofMillis(100);

    final TopologyTestDriver driver;
    private final AvroKafkaSerializer<SpecificRecord> avroOut = new AvroKafkaSerializer<>();
    private final StringSerializer keys = new StringSerializer();
    private final Path stateDir;
    private final TestOutputTopic<String, Object> distributionTopic;
    private final TestOutputTopic<String, Object> deadLetterTopic;
    private final TestOutputTopic<String, Object> alignmentTopic;
    private final TestOutputTopic<String, Object> spikinessTopic;
    final List<DocumentDistribution> distributions = new ArrayList<>();
    final List<DeadLetter> deadLetters = new ArrayList<>();
    final List<AlignmentMetric> alignment = new ArrayList<>();
    final List<SpikinessMetric> spikiness = new ArrayList<>();

    DriverPipeline(String registryUrl, List<WindowSpec> windows) {
        Map<String, Object> avro = AvroSerdeConfig.registry(registryUrl);
        try {
            stateDir = Files.createTempDirectory("aggregator-ttd");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "aggregator-ttd");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, FLUSH.toMillis());
        driver = new TopologyTestDriver(TopologyProducer.build(avro, Conventions.paper(), windows), props);
        avroOut.configure(avro, false);
        distributionTopic = output(Topics.DISTRIBUTIONS, avro);
        deadLetterTopic = output(Topics.DEAD_LETTERS, avro);
        alignmentTopic = output(Topics.ALIGNMENT_METRICS, avro);
        spikinessTopic = output(Topics.SPIKINESS_METRICS, avro);
    }

    private TestOutputTopic<String, Object> output(String topic, Map<String, Object> avro) {
        AvroKafkaDeserializer<Object> d = new AvroKafkaDeserializer<>();
        d.configure(avro, false);
        return driver.createOutputTopic(topic, new StringDeserializer(), d);
    }

    @Override
    public void send(String topic, String key, SpecificRecord value, Instant timestamp) {
        driver.createInputTopic(topic, keys, (t, v) -> avroOut.serialize(t, (SpecificRecord) v))
                .pipeInput(key, value, timestamp);
        drain();
    }

    @Override
    public void sendRaw(String topic, String key, byte[] value) {
        driver.createInputTopic(topic, keys, new ByteArraySerializer()).pipeInput(key, value);
        drain();
    }

    /**
     * Whether one flush interval passes after each record (as in a service that gets one record per commit
     * interval); when false, metric changes stay pending until {@link #flush()}.
     */
    boolean flushEachRecord = true;

    /** Lets one flush interval pass (the assembler sends its pending metric changes), then reads the outputs. */
    void flush() {
        driver.advanceWallClockTime(FLUSH);
        drain();
    }

    private void drain() {
        if (flushEachRecord) {
            driver.advanceWallClockTime(FLUSH);
        }
        distributionTopic.readValuesToList().forEach(v -> distributions.add((DocumentDistribution) v));
        deadLetterTopic.readValuesToList().forEach(v -> deadLetters.add((DeadLetter) v));
        alignmentTopic.readValuesToList().forEach(v -> alignment.add((AlignmentMetric) v));
        spikinessTopic.readValuesToList().forEach(v -> spikiness.add((SpikinessMetric) v));
    }

    @Override
    public List<DocumentDistribution> distributions(String documentId, int atLeast) {
        return distributions.stream().filter(d -> d.getDocumentId().equals(documentId)).toList();
    }

    @Override
    public List<DeadLetter> deadLetters(String key, int atLeast) {
        return deadLetters.stream().filter(d -> d.getKey() != null
                && key.equals(new String(bytes(d.getKey()), java.nio.charset.StandardCharsets.UTF_8))).toList();
    }

    static byte[] bytes(java.nio.ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Override
    public AlignmentMetric alignment(String model, String taskVersion, String method,
                                     Predicate<AlignmentMetric> until) {
        return alignment.stream().filter(m -> m.getModel().equals(model)
                && java.util.Objects.equals(m.getTaskVersion(), taskVersion) && m.getMethod().equals(method)
                && m.getWindowStart() == null).reduce((a, b) -> b).orElseThrow(
                        () -> new AssertionError("no all-time alignment record for " + model + "@" + taskVersion
                                + "/" + method));
    }

    @Override
    public SpikinessMetric spikiness(String model, String taskVersion, String position, int stepIndex,
                                     Predicate<SpikinessMetric> until) {
        return spikiness.stream().filter(m -> m.getModel().equals(model)
                && java.util.Objects.equals(m.getTaskVersion(), taskVersion) && m.getPosition().equals(position)
                && m.getStepIndex() == stepIndex && m.getWindowStart() == null).reduce((a, b) -> b).orElseThrow(
                        () -> new AssertionError("no all-time spikiness record for " + model + "@" + taskVersion
                                + " " + position + "/" + stepIndex));
    }

    @Override
    public void close() {
        driver.close();
        avroOut.close();
    }
}
