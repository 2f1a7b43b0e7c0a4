package io.labelscope.aggregator;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.math.Conventions;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.UnaryProbes;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Aggregator;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Initializer;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.BinaryOperator;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The aggregator's Kafka Streams topology, top to bottom in data-flow order:
 * decode the five inputs (annotations repartitioned by their document id) → assemble each document (state store
 * {@code documents}) → distributions and dead letters out → alignment and spikiness changes summed per
 * task/model, all-time and per window → metrics out.
 */
@ApplicationScoped
public class TopologyProducer {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(TopologyProducer.class);

    public static final String DOCUMENTS_STORE = DocumentAssembler.STORE;
    public static final String ALIGNMENT_STORE = "alignment-all-time";
    public static final String SPIKINESS_STORE = "spikiness-all-time";
    /**
     * Name of the repartition that moves annotations to their document's partition; the internal topic is
     * {@code <application.id>-annotations-by-document-repartition}.
     */
    public static final String ANNOTATIONS_BY_DOCUMENT = "annotations-by-document";

    @ConfigProperty(name = "labelscope.registry.url", defaultValue = "http://127.0.0.1:8081")
    String registryUrl;

    @jakarta.inject.Inject
    WindowSpecs windows;

    @ConfigProperty(name = "labelscope.aggregator.compat", defaultValue = "paper")
    String compat;

    @jakarta.inject.Inject
    Config config;

    @Produces
    public Topology topology() {
        return build(settings(registryUrl, config), Conventions.paper().withMode(Conventions.Mode.fromWireName(compat)),
                windows.specs());
    }

    /** Registry settings for every serde, plus any {@code apicurio.*} setting from configuration (e.g. auth). */
    static Map<String, Object> settings(String registryUrl, Config config) {
        Map<String, Object> avro = new HashMap<>(AvroSerdeConfig.registry(registryUrl));
        if (config != null) {
            for (String name : config.getPropertyNames()) {
                if (name.startsWith("apicurio.")) {
                    config.getOptionalValue(name, String.class).ifPresent(v -> avro.put(name, v));
                }
            }
        }
        return avro;
    }

    /** The topology itself; public for TopologyTestDriver tests and the benchmark. */
    public static Topology build(Map<String, Object> avroConfig, Conventions conventions, List<WindowSpec> windows) {
        AggregatorSerdes serdes = new AggregatorSerdes(avroConfig);
        StreamsBuilder builder = new StreamsBuilder();
        // Cached: a document's records mostly arrive close together, so within a commit interval its state is
        // written to RocksDB and the changelog once instead of once per record.
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.persistentKeyValueStore(DocumentAssembler.STORE), serdes.key, serdes.documentState)
                .withCachingEnabled());
        // Metric changes summed per task/model and time bucket between flushes (once per commit interval), so
        // the repartition topic and the aggregates see a few records per commit instead of one per document.
        builder.addStateStore(Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(MetricChangeBatcher.PENDING_STORE), serdes.key, serdes.pendingChange)
                .withCachingEnabled());
        long bucketMs = metricBucketMs(windows);

        // 1. Inputs, decoded and checked; anything malformed becomes a Rejected event.
        KStream<String, DocumentEvent> steps = decoded(builder, serdes, Topics.LABEL_STEPS, LabelStep.class);
        KStream<String, DocumentEvent> generations = decoded(builder, serdes, Topics.GENERATIONS, Generation.class);
        KStream<String, DocumentEvent> unary = decoded(builder, serdes, Topics.UNARY_PROBES, UnaryProbes.class);
        KStream<String, DocumentEvent> binary = decoded(builder, serdes, Topics.BINARY_PROBES, BinaryProbes.class);
        KStream<String, DocumentEvent> annotations = annotationsByDocument(builder, serdes);

        // 2. One processor per document id sees all five inputs in arrival order (co-partitioned by id: the
        //    worker's topics as written, annotations through their repartition topic).
        KStream<String, Assembled> assembled = steps.merge(generations).merge(unary).merge(binary).merge(annotations)
                .process(() -> new DocumentAssembler(conventions, bucketMs), Named.as("assemble-documents"),
                        DocumentAssembler.STORE, MetricChangeBatcher.PENDING_STORE);

        // 3. Routed by kind: the product, the rejects, and the metric changes.
        Map<String, KStream<String, Assembled>> routed = assembled.split(Named.as("assembled-"))
                .branch((id, out) -> out instanceof Assembled.Distribution, Branched.as("distributions"))
                .branch((key, out) -> out instanceof Assembled.Rejected, Branched.as("rejected"))
                .branch((key, out) -> out instanceof Assembled.MetricsChange, Branched.as("metric-changes"))
                .noDefaultBranch();
        routed.get("assembled-distributions")
                .mapValues(out -> ((Assembled.Distribution) out).distribution())
                .to(Topics.DISTRIBUTIONS, Produced.with(serdes.key, serdes.distribution));
        toDeadLetters(routed.get("assembled-rejected")
                .mapValues(out -> ((Assembled.Rejected) out).deadLetter()), serdes);

        // 4. Metric changes, re-keyed by task/model in the assembler, cross to the partition that owns the
        //    task/model once, through one repartition topic carrying both alignment and spikiness.
        KStream<String, Assembled.MetricsChange> changes = routed.get("assembled-metric-changes")
                .mapValues(out -> (Assembled.MetricsChange) out)
                .repartition(Repartitioned.with(serdes.key, serdes.metricsChange).withName("metrics-by-task-model"));

        // 5. Alignment and spikiness (SPEC §5): each summed per task/model, all time and per window of
        //    generation time.
        aggregateMetric(changes, new MetricFamily<>(Assembled.MetricsChange::alignment, serdes.alignmentTallies,
                AlignmentTallies::empty, AlignmentTallies::plus,
                ALIGNMENT_STORE, TopologyProducer::alignmentWindowStore, MetricRecords::allTimeAlignment, MetricRecords::windowedAlignment, Topics.ALIGNMENT_METRICS,
                serdes.alignmentMetric), windows, serdes.key);
        aggregateMetric(changes, new MetricFamily<>(Assembled.MetricsChange::spikiness, serdes.spikinessTallies,
                SpikinessTallies::empty, SpikinessTallies::plus,
                SPIKINESS_STORE, TopologyProducer::spikinessWindowStore, MetricRecords::allTimeSpikiness, MetricRecords::windowedSpikiness, Topics.SPIKINESS_METRICS,
                serdes.spikinessMetric), windows, serdes.key);

        // 6. The dead letters, whoever wrote them, counted by error type for the dashboard.
        DeadLetterCounts.addTo(builder, serdes);
        return builder.build();
    }

    /**
     * One family of metrics (alignment or spikiness): which part of a metric change it sums, how its sums add
     * up, the stores the sums live in, and how a sum becomes output records.
     *
     * @param part            the family's part of a change (null when the change has nothing for it)
     * @param allTimeRecords  the output records of an all-time sum (key = task/model)
     * @param windowedRecords the output records of one window's sum
     */
    private record MetricFamily<S, M>(Function<Assembled.MetricsChange, S> part, Serde<S> sumSerde,
                                      Supplier<S> empty, BinaryOperator<S> plus, String allTimeStore,
                                      Function<WindowSpec, String> windowStore,
                                      BiFunction<String, S, List<KeyValue<String, M>>> allTimeRecords,
                                      BiFunction<Windowed<String>, S, List<KeyValue<String, M>>> windowedRecords,
                                      String topic, Serde<M> recordSerde) {
    }

    /** A family's sums per task/model: all time, and per window of generation time, each written to its topic. */
    private static <S, M> void aggregateMetric(KStream<String, Assembled.MetricsChange> changes,
                                               MetricFamily<S, M> family, List<WindowSpec> windows,
                                               Serde<String> keySerde) {
        KGroupedStream<String, S> parts = changes
                .filter((key, change) -> family.part().apply(change) != null)
                .mapValues(change -> family.part().apply(change))
                .groupByKey(Grouped.with(keySerde, family.sumSerde()));
        Aggregator<String, S, S> add = (key, change, sum) -> family.plus().apply(sum, change);
        Initializer<S> empty = () -> family.empty().get();
        parts.aggregate(empty, add, Materialized.<String, S, KeyValueStore<Bytes, byte[]>>as(family.allTimeStore())
                        .withKeySerde(keySerde).withValueSerde(family.sumSerde()))
                .toStream()
                .flatMap((String key, S sum) -> family.allTimeRecords().apply(key, sum))
                .to(family.topic(), Produced.with(keySerde, family.recordSerde()));
        for (WindowSpec w : windows) {
            parts.windowedBy(w.windows())
                    .aggregate(empty, add, Materialized.<String, S, WindowStore<Bytes, byte[]>>as(
                                    family.windowStore().apply(w)).withRetention(w.retention())
                            .withKeySerde(keySerde).withValueSerde(family.sumSerde()))
                    .toStream()
                    .flatMap((Windowed<String> key, S sum) -> family.windowedRecords().apply(key, sum))
                    .to(family.topic(), Produced.with(keySerde, family.recordSerde()));
        }
    }

    /**
     * The time bucket metric changes are summed in before the repartition: the greatest common divisor of every
     * window's size and advance (1 minute for the defaults), so each window boundary is a bucket boundary and
     * all changes of a bucket fall in the same windows. One minute without windows (only all-time metrics).
     */
    static long metricBucketMs(List<WindowSpec> windows) {
        long g = 0;
        for (WindowSpec w : windows) {
            g = gcd(g, w.size().toMillis());
            g = gcd(g, w.advance().toMillis());
        }
        if (!windows.isEmpty() && g <= 0) {
            throw new IllegalArgumentException("windows " + windows + ": sizes and advances must be whole, "
                    + "positive milliseconds");
        }
        return g == 0 ? 60_000 : g;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    public static String alignmentWindowStore(WindowSpec w) {
        return "alignment-window-" + w.name();
    }

    public static String spikinessWindowStore(WindowSpec w) {
        return "spikiness-window-" + w.name();
    }

    /**
     * Annotations, decoded, re-keyed by the value's {@code document_id} and repartitioned (internal topic
     * {@code <application.id>-}{@value #ANNOTATIONS_BY_DOCUMENT}{@code -repartition}) before they meet the
     * document's other records.
     *
     * <p>Why: {@code annotations} is written by users' producers, and the partition a key lands on depends on the
     * client. Java's producer hashes keys with murmur2, librdkafka (Python {@code confluent_kafka}, Go, .NET) with
     * CRC32 by default, so an annotation read as written may sit on a partition whose task never sees the
     * document's steps: it would never be counted, with no error anywhere. Our own repartition producer is
     * Kafka Streams' (murmur2 over the UTF-8 document id, like the worker's), so after it every annotation is on
     * its document's partition whatever client wrote it, and whatever its key: the value's document id is the
     * truth (a record keyed otherwise, or not at all, still counts toward the document it names).
     *
     * <p>The worker's outputs ({@code label-steps}, {@code generations}, {@code unary-probes},
     * {@code binary-probes}) are not repartitioned: only our worker writes them, with the Java producer's default
     * partitioner, keyed by document id, and the decoder dead-letters a record whose key is not its document id;
     * a second hop would only cost every step event a write and a read.
     *
     * <p>Exactly-once holds across the hop: under {@code exactly_once_v2} the write to the repartition topic
     * commits in the same transaction as the read offsets of {@code annotations}, and the assembler reads it
     * {@code read_committed}. Rejected annotations (undecodable, no annotator) go to the dead letters from here,
     * with their original topic, partition and offset.
     */
    private static KStream<String, DocumentEvent> annotationsByDocument(StreamsBuilder builder,
                                                                        AggregatorSerdes serdes) {
        Map<String, KStream<String, DocumentEvent>> branches = decoded(builder, serdes, Topics.ANNOTATIONS,
                Annotation.class).split(Named.as("annotations-"))
                .branch((key, event) -> event instanceof DocumentEvent.Rejected, Branched.as("rejected"))
                .defaultBranch(Branched.as("accepted"));
        toDeadLetters(branches.get("annotations-rejected")
                .mapValues(event -> ((DocumentEvent.Rejected) event).deadLetter()), serdes);
        return branches.get("annotations-accepted")
                .map((key, event) -> {
                    DocumentEvent.AnnotationArrived a = (DocumentEvent.AnnotationArrived) event;
                    return KeyValue.pair(a.annotation().getDocumentId(), RoutedAnnotations.of(a));
                }, Named.as("key-annotations-by-document"))
                .repartition(Repartitioned.with(serdes.key, serdes.routedAnnotation)
                        .withName(ANNOTATIONS_BY_DOCUMENT))
                .mapValues(routed -> (DocumentEvent) RoutedAnnotations.arrived(routed),
                        Named.as("annotations-by-document-as-events"));
    }

    /** Every rejected record goes out here, logged with where it came from and why. */
    private static void toDeadLetters(KStream<String, DeadLetter> rejected, AggregatorSerdes serdes) {
        rejected.peek((key, dead) -> LOG.warnf("dead letter from %s[%d]@%d (key %s): %s: %s", dead.getSourceTopic(),
                        dead.getSourcePartition(), dead.getSourceOffset(), key, dead.getErrorType(), dead.getReason()))
                .to(Topics.DEAD_LETTERS, Produced.with(serdes.key, serdes.deadLetter));
    }

    private static <T extends SpecificRecord> KStream<String, DocumentEvent> decoded(
            StreamsBuilder builder, AggregatorSerdes serdes, String topic, Class<T> type) {
        return builder.stream(topic, Consumed.with(serdes.key, serdes.rawValue).withName("read-" + topic))
                .processValues(() -> new InputDecoder<>(type, serdes.avroConfig), Named.as("decode-" + topic));
    }
}
