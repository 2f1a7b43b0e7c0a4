package io.labelscope.aggregator.bench;

import io.labelscope.aggregator.PlatformWithTopics;
import io.labelscope.aggregator.TopologyProducer;
import io.labelscope.aggregator.WindowSpecs;
import io.labelscope.math.Conventions;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;
import io.labelscope.schemas.serde.Decoded;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

import java.io.File;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Benchmark (a command, not a test) of the aggregator topology on a real broker and registry:
 * <ol>
 *   <li>throughput: a backlog of W warm-up documents and D measured ones (S label steps, one generation, one
 *       annotation each) is produced first; a plain consumer reads the same input records (decoding the Avro
 *       values) from the same broker, then the topology (exactly_once_v2, one thread) processes the backlog.
 *       Reported: step events/s of both over the measured documents only (a fresh JVM spends its first minute
 *       compiling), their ratio, and CPU per measured document by thread group;</li>
 *   <li>latency: with the topology running, documents are produced one by one (generation and steps 0..S−2
 *       first, the last step last); the time from sending a document's last step to reading its distribution
 *       (read_committed) gives p50/p99.</li>
 * </ol>
 * Usage: {@code AggregatorBenchmark [--warmup-documents W] [--documents D] [--steps S] [--latency-documents L]
 * [--commit-interval-ms N] [--threads N] [--topology floor] [--plain-consumer false] [--streams name=value,...]
 * [--bootstrap host:port --registry http://host:port]}; without --bootstrap it starts the test platform (in-JVM
 * broker + registry child process). {@code --topology floor} runs a stateless topology that only decodes the same
 * inputs: what any topology pays here. The topology reads only this run's records (its consumer group starts at
 * the input topics' ends as they were before the backlog), so runs can follow each other on one broker
 * ({@link AggregatorComparison} does). The last line is the result as one JSON object, prefixed {@value #RESULT}.
 */
public final class AggregatorBenchmark {

    static final List<String> LABELS = List.of("joy", "optimism", "admiration", "surprise", "fear", "sadness",
            "anger");

    static final Set<String> THREAD_METRICS = Set.of("process-ratio", "commit-ratio", "poll-ratio",
            "punctuate-ratio", "commit-latency-avg", "poll-records-avg", "process-records-avg", "commit-rate");

    /** Prefix of the result line, which {@link AggregatorComparison} reads from a child benchmark. */
    static final String RESULT = "result: ";

    static final List<String> INPUT_TOPICS = List.of(Topics.LABEL_STEPS, Topics.GENERATIONS, Topics.UNARY_PROBES,
            Topics.BINARY_PROBES, Topics.ANNOTATIONS);

    public static void main(String[] args) throws Exception {
        // Outside Quarkus nothing configures the log manager, and its root logger then accepts every level: Kafka
        // Streams formatted a trace message per record (12% of the stream thread). The service runs at INFO.
        org.jboss.logmanager.LogContext.getSystemLogContext().getLogger("").setLevel(java.util.logging.Level.INFO);
        System.out.println("kafka trace logging enabled: "
                + org.slf4j.LoggerFactory.getLogger("org.apache.kafka.streams").isTraceEnabled());
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int documents = Integer.parseInt(opts.getOrDefault("documents", "20000"));
        int warmup = Integer.parseInt(opts.getOrDefault("warmup-documents", "20000"));
        int steps = Integer.parseInt(opts.getOrDefault("steps", "3"));
        int latencyDocuments = Integer.parseInt(opts.getOrDefault("latency-documents", "300"));
        int commitIntervalMs = Integer.parseInt(opts.getOrDefault("commit-interval-ms", "100"));
        int threads = Integer.parseInt(opts.getOrDefault("threads", "1"));
        boolean plainConsumer = Boolean.parseBoolean(opts.getOrDefault("plain-consumer", "true"));
        String bootstrap = opts.get("bootstrap");
        String registry = opts.get("registry");
        if (bootstrap == null) {
            TestPlatform platform = TestPlatform.get();
            bootstrap = platform.bootstrapServers();
            registry = platform.registryUrl();
            PlatformWithTopics.createPublicTopics(platform);
        }
        String run = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        System.out.printf("benchmark %s: %d warm-up + %d measured documents x %d steps, %d latency documents, "
                + "broker %s, %d cores%n", run, warmup, documents, steps, latencyDocuments, bootstrap,
                Runtime.getRuntime().availableProcessors());

        double loadBefore = loadAverage();
        // Where this run's records will start: earlier runs on the same broker are not this run's work.
        Map<TopicPartition, OffsetAndMetadata> inputEnds = endOffsets(bootstrap);
        try (KafkaProducer<String, Object> producer = producer(bootstrap, registry)) {
            // 1. the backlog
            int inputRecords = 0;
            int warmupRecords = 0;
            for (int d = 0; d < warmup + documents; d++) {
                inputRecords += sendDocument(producer, run, run + "-d" + d, steps, true);
                if (d == warmup - 1) {
                    warmupRecords = inputRecords;
                }
            }
            producer.flush();
            int stepEvents = documents * steps;

            // 2. a plain consumer reads the same records. Sustained rate: over the measured documents' records,
            //    after the warm-up documents' records (and the group join) are behind it.
            long[] warmAndLast = new long[2];
            int read = plainConsumer ? plainRead(bootstrap, registry, inputRecords, warmupRecords, warmAndLast) : 0;
            double consumerSeconds = (warmAndLast[1] - warmAndLast[0]) / 1e9;

            // 3. the topology processes the backlog
            Map<String, Long> seen = new ConcurrentHashMap<>();
            DistributionWatcher watcher = new DistributionWatcher(bootstrap, registry, run, seen);
            watcher.start();
            boolean floor = "floor".equals(opts.get("topology"));
            if (floor) {
                try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                    admin.createTopics(List.of(new NewTopic("bench-floor-" + run, 3, (short) 1))).all().get();
                }
            }
            KafkaStreams streams = new KafkaStreams(floor ? floorTopology(registry, run, seen)
                    : TopologyProducer.build(AvroSerdeConfig.registry(registry), Conventions.paper(),
                    WindowSpecs.parse(List.of("PT1M", "PT15M/PT5M"), Duration.ofMinutes(1), Duration.ofDays(1))),
                    streamsProps(bootstrap, run, commitIntervalMs, threads, opts.getOrDefault("streams", "")));
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
                admin.alterConsumerGroupOffsets("aggregator-" + run, inputEnds).all().get();
            }
            long[] running = new long[1];
            streams.setStateListener((now, before) -> {
                if (now == KafkaStreams.State.RUNNING && running[0] == 0) {
                    running[0] = System.nanoTime();
                }
            });
            long t1 = System.nanoTime();
            streams.start();
            // Sustained rate: from the moment the warm-up documents' distributions are out (instance RUNNING,
            // JIT compilation of the hot paths mostly done) to the last measured distribution committed. The
            // cold start (start-up, then the warm-up documents) is reported separately.
            long measureFrom = 0;
            long cpuAtMeasureFrom = 0;
            Map<String, Long> threadCpuAtMeasureFrom = Map.of();
            long nextReport = System.nanoTime() + 2_000_000_000L;
            int seenAtReport = 0;
            while (seen.size() < warmup + documents) {
                Thread.sleep(5);
                if (measureFrom == 0 && running[0] != 0 && seen.size() >= warmup) {
                    measureFrom = System.nanoTime();
                    cpuAtMeasureFrom = processCpuNanos();
                    threadCpuAtMeasureFrom = cpuByThreadGroup();
                }
                if (System.nanoTime() > nextReport) {
                    int now = seen.size();
                    System.out.printf("progress: %d documents (%d docs/s)%n", now, (now - seenAtReport) / 2);
                    seenAtReport = now;
                    nextReport += 2_000_000_000L;
                }
                if (System.nanoTime() - t1 > Duration.ofMinutes(15).toNanos()) {
                    throw new IllegalStateException("only " + seen.size() + " of " + (warmup + documents)
                            + " distributions");
                }
            }
            long done = System.nanoTime();
            long doneEpochMs = System.currentTimeMillis();
            // CPU spent while the measured documents were processed (robust to other load on the machine, unlike
            // the rates): the whole JVM (broker, topology, watcher), the stream threads, and per thread group.
            double processCpuMsPerDocument = (processCpuNanos() - cpuAtMeasureFrom) / 1e6 / documents;
            double loadAfter = loadAverage();
            Map<String, Double> cpuByThread = cpuMsPerDocumentByThreadGroup(threadCpuAtMeasureFrom, documents);
            // The stream threads and their producers' network threads (named after them).
            double streamCpuMsPerDocument = cpuByThread.entrySet().stream()
                    .filter(e -> e.getKey().contains("StreamThread-")).mapToDouble(Map.Entry::getValue).sum();
            // The stream threads alone: the thread that runs the topology (its clients' I/O threads excluded).
            double streamThreadCpuMsPerDocument = cpuByThread.entrySet().stream()
                    .filter(e -> e.getKey().matches(".*StreamThread-N")).mapToDouble(Map.Entry::getValue).sum();
            double topologySeconds = (done - measureFrom) / 1e9;
            double startupSeconds = (running[0] - t1) / 1e9;
            double warmupSeconds = (measureFrom - running[0]) / 1e9;
            // Where the stream thread's time went while it worked through the backlog (Kafka Streams' own metrics).
            Map<String, Object> thread = new TreeMap<>();
            streams.metrics().forEach((name, metric) -> {
                if (name.group().equals("stream-thread-metrics") && THREAD_METRICS.contains(name.name())
                        && metric.metricValue() instanceof Double v) {
                    thread.put(name.name(), Math.round(v * 1000) / 1000.0);
                }
            });

            // 4. latency, one document at a time
            List<Double> latencies = new ArrayList<>();
            Map<String, Long> lastStepSent = new ConcurrentHashMap<>();
            for (int d = 0; d < latencyDocuments; d++) {
                String doc = run + "-lat" + d;
                sendDocument(producer, run, doc, steps, false);
                producer.flush();
                long sent = System.nanoTime();
                producer.send(new ProducerRecord<>(Topics.LABEL_STEPS, doc, step(run, doc, steps - 1, steps))).get();
                lastStepSent.put(doc, sent);
                while (!seen.containsKey(doc)) {
                    Thread.sleep(1);
                }
                latencies.add((seen.get(doc) - sent) / 1e6);
            }
            streams.close(Duration.ofSeconds(30));
            watcher.stop();

            Collections.sort(latencies);
            double consumerRate = stepEvents / consumerSeconds;
            double topologyRate = stepEvents / topologySeconds;
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("topology", floor ? "floor" : "aggregator");
            result.put("started_at", Instant.ofEpochMilli(System.currentTimeMillis()
                    - (System.nanoTime() - t1) / 1_000_000).toString());
            result.put("load_average", List.of(loadBefore, loadAfter));
            result.put("warmup_documents", warmup);
            result.put("documents", documents);
            result.put("steps_per_document", steps);
            result.put("commit_interval_ms", commitIntervalMs);
            result.put("stream_threads", threads);
            result.put("input_records", inputRecords);
            if (plainConsumer) {
                result.put("plain_consumer_records_read", read);
                result.put("plain_consumer_step_events_per_s", Math.round(consumerRate));
            }
            result.put("topology_step_events_per_s", Math.round(topologyRate));
            if (plainConsumer) {
                result.put("ratio_topology_to_consumer", Math.round(topologyRate / consumerRate * 1000) / 1000.0);
            }
            result.put("measured_from_epoch_ms", doneEpochMs - (done - measureFrom) / 1_000_000);
            result.put("measured_to_epoch_ms", doneEpochMs);
            result.put("topology_startup_s", Math.round(startupSeconds * 10) / 10.0);
            result.put("topology_warmup_s", Math.round(warmupSeconds * 10) / 10.0);
            result.put("stream_thread", thread);
            result.put("cpu_ms_per_document_jvm", Math.round(processCpuMsPerDocument * 1000) / 1000.0);
            result.put("cpu_ms_per_document_stream_threads", Math.round(streamCpuMsPerDocument * 1000) / 1000.0);
            result.put("cpu_ms_per_document_stream_thread", Math.round(streamThreadCpuMsPerDocument * 1000) / 1000.0);
            result.put("cpu_ms_per_document_by_thread", cpuByThread);
            result.put("latency_documents", latencies.size());
            result.put("latency_p50_ms", percentile(latencies, 0.50));
            result.put("latency_p99_ms", percentile(latencies, 0.99));
            System.out.println(RESULT + new ObjectMapper().writeValueAsString(result));
        }
        System.exit(0);
    }

    /** Generation, annotation (backlog only) and steps; in latency mode the last step is sent by the caller. */
    private static int sendDocument(KafkaProducer<String, Object> producer, String run, String doc, int steps,
                                    boolean withLastStep) {
        int n = 0;
        producer.send(new ProducerRecord<>(Topics.ANNOTATIONS, doc, Annotation.newBuilder().setDocumentId(doc)
                .setTask(run).setAnnotatorId("a1").setLabels(List.of("joy")).setAnnotatedAt(Instant.now()).build()));
        n++;
        producer.send(new ProducerRecord<>(Topics.GENERATIONS, doc, Generation.newBuilder().setDocumentId(doc)
                .setTask(run).setModel("bench").setRunId(run).setRawOutput("[]").setParsedLabels(List.of("joy"))
                .setStepsTotal(steps).setPromptTokens(1).setOutputTokens(1).setLatencyMs(1).setStopReason("eos")
                .setProducedAt(Instant.now()).setLabels(LABELS).build()));
        n++;
        for (int s = 0; s < (withLastStep ? steps : steps - 1); s++) {
            producer.send(new ProducerRecord<>(Topics.LABEL_STEPS, doc, step(run, doc, s, steps)));
            n++;
        }
        return n;
    }

    private static LabelStep step(String run, String doc, int s, int steps) {
        Map<String, Double> logits = new HashMap<>();
        for (int i = 0; i < LABELS.size(); i++) {
            logits.put(LABELS.get(i), (double) ((i * 7 + s * 3 + doc.hashCode()) & 15));
        }
        logits.put("none", 5.0);
        return LabelStep.newBuilder().setDocumentId(doc).setTask(run).setModel("bench").setRunId(run).setStep(s)
                .setStepsTotal(steps).setGeneratedLabel(LABELS.get(s % LABELS.size())).setLogits(logits)
                .setProbabilities(logits).setTokenIndex(s).setProducedAt(Instant.now()).setLabels(LABELS).build();
    }

    /**
     * The floor any Kafka Streams topology pays here (option {@code --topology floor}): the same five inputs read
     * as bytes and decoded by the same deserializer under the same exactly-once settings, each document's last
     * step written as a small record, no state. Documents are counted when processed (not when committed).
     */
    private static Topology floorTopology(String registry, String run, Map<String, Long> seen) {
        StreamsBuilder builder = new StreamsBuilder();
        FailSafeAvroDeserializer<Object> values = new FailSafeAvroDeserializer<>();
        values.configure(AvroSerdeConfig.registry(registry), false);
        builder.stream(INPUT_TOPICS, Consumed.with(Serdes.String(), Serdes.ByteArray()))
                .mapValues(bytes -> values.deserialize("", bytes) instanceof Decoded.Ok<Object> ok ? ok.value() : null)
                .filter((key, value) -> value instanceof LabelStep s && s.getStep() == s.getStepsTotal() - 1)
                .peek((key, value) -> seen.putIfAbsent(key, System.nanoTime()))
                .mapValues(value -> ((LabelStep) value).getRunId())
                .to("bench-floor-" + run, Produced.with(Serdes.String(), Serdes.String()));
        return builder.build();
    }

    /** The end of every partition of the input topics now (committed as the topology's starting offsets). */
    private static Map<TopicPartition, OffsetAndMetadata> endOffsets(String bootstrap) {
        Map<String, Object> c = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : INPUT_TOPICS) {
                consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            }
            Map<TopicPartition, OffsetAndMetadata> ends = new HashMap<>();
            consumer.endOffsets(partitions).forEach((p, offset) -> ends.put(p, new OffsetAndMetadata(offset)));
            return ends;
        }
    }

    /** The machine's one-minute load average (other builds share it), NaN where there is no /proc. */
    static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (java.io.IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static KafkaProducer<String, Object> producer(String bootstrap, String registry) {
        Map<String, Object> p = new HashMap<>(AvroSerdeConfig.producer(registry));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(p);
    }

    /** Reads {@code expected} records; notes when the first {@code warmupRecords} are read and when the last is. */
    private static int plainRead(String bootstrap, String registry, int expected, int warmupRecords,
                                 long[] warmAndLast) {
        Map<String, Object> c = new HashMap<>(AvroSerdeConfig.consumer(registry));
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-plain-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        int read = 0;
        try (KafkaConsumer<String, Object> consumer = new KafkaConsumer<>(c)) {
            consumer.subscribe(List.of(Topics.LABEL_STEPS, Topics.GENERATIONS, Topics.ANNOTATIONS));
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (read < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, Object> r : consumer.poll(Duration.ofMillis(100))) {
                    if (warmAndLast[0] == 0 && read >= warmupRecords) {
                        warmAndLast[0] = System.nanoTime();
                    }
                    if (r.value() != null) {
                        read++;
                    }
                }
                warmAndLast[1] = System.nanoTime();
            }
        }
        return read;
    }

    /** The service's settings; {@code extra} ("name=value,name=value") adds or overrides Kafka Streams settings. */
    private static Properties streamsProps(String bootstrap, String run, int commitIntervalMs, int threads,
                                           String extra) throws Exception {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, "aggregator-" + run);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
        p.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("aggregator-bench").toString());
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, -1);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        for (String setting : extra.split(",")) {
            if (!setting.isBlank()) {
                p.put(setting.substring(0, setting.indexOf('=')).trim(), setting.substring(setting.indexOf('=') + 1));
            }
        }
        return p;
    }

    static double percentile(List<Double> sorted, double q) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(q * sorted.size()) - 1;
        return Math.round(sorted.get(Math.max(0, Math.min(sorted.size() - 1, i))) * 10) / 10.0;
    }

    /** Reads distributions (read_committed) and notes when each document's first one was seen. */
    static final class DistributionWatcher {
        private final Thread thread;
        private volatile boolean running = true;

        DistributionWatcher(String bootstrap, String registry, String run, Map<String, Long> seen) {
            Map<String, Object> c = new HashMap<>(AvroSerdeConfig.registry(registry));
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            c.put(ConsumerConfig.GROUP_ID_CONFIG, "bench-watch-" + UUID.randomUUID());
            c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            FailSafeAvroDeserializer<DocumentDistribution> values = new FailSafeAvroDeserializer<>();
            values.configure(c, false);
            thread = new Thread(() -> {
                try (var consumer = new KafkaConsumer<>(c, new StringDeserializer(), values)) {
                    consumer.subscribe(List.of(Topics.DISTRIBUTIONS));
                    while (running) {
                        for (var r : consumer.poll(Duration.ofMillis(20))) {
                            if (r.key() != null && r.key().startsWith(run)) {
                                seen.putIfAbsent(r.key(), System.nanoTime());
                            }
                        }
                    }
                }
            }, "bench-watch");
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(5000);
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * CPU time per thread group (thread names with digits and the run's id removed), so the benchmark says who
     * spent the JVM's CPU while the backlog was processed: the stream thread, its producer, the broker's
     * request handlers and network threads, the watcher. Threads started after {@code before} count from zero.
     */
    private static Map<String, Double> cpuMsPerDocumentByThreadGroup(Map<String, Long> before, int documents) {
        Map<String, Long> after = cpuByThreadGroup();
        Map<String, Double> perDocument = new TreeMap<>();
        after.forEach((group, nanos) -> {
            double ms = (nanos - before.getOrDefault(group, 0L)) / 1e6 / documents;
            if (ms >= 0.01) {
                perDocument.put(group, Math.round(ms * 1000) / 1000.0);
            }
        });
        return perDocument;
    }

    private static Map<String, Long> cpuByThreadGroup() {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        Map<String, Long> groups = new HashMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            long cpu = mx.getThreadCpuTime(t.getId());
            if (cpu > 0) {
                String group = t.getName().replaceAll("aggregator-bench-[0-9a-f-]+", "aggregator")
                        .replaceAll("[0-9]+", "N");
                groups.merge(group, cpu, Long::sum);
            }
        }
        groups.putAll(nativeJvmThreadCpu());
        return groups;
    }

    /**
     * The JVM's own threads, invisible to ThreadMXBean: JIT compilers and garbage collector, from Linux's
     * per-thread accounting ({@code /proc/self/task/TID/stat}, clock ticks of 10 ms); empty elsewhere.
     */
    private static Map<String, Long> nativeJvmThreadCpu() {
        Map<String, Long> groups = new HashMap<>();
        File[] tasks = new File("/proc/self/task").listFiles();
        if (tasks == null) {
            return groups;
        }
        for (File task : tasks) {
            try {
                String stat = Files.readString(task.toPath().resolve("stat"));
                String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime + stime
                String group = comm.matches("C[12] Compiler.*") ? "jvm: JIT compiler"
                        : comm.matches("(G1|GC Thread|VM Thread).*") ? "jvm: GC and VM operations" : null;
                if (group != null) {
                    groups.merge(group, ticks * 10_000_000L, Long::sum);
                }
            } catch (java.io.IOException | RuntimeException threadEnded) {
                // a thread that ended between listing and reading has nothing left to count
            }
        }
        return groups;
    }
}
