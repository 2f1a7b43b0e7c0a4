package io.labelscope.worker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

import io.labelscope.platform.testing.ServiceProcess;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.bench.RandomCheckpoint;
import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.Decoded;

/**
 * The worker's benchmark (a command, not a test): the same documents through the runtime offline and through the
 * packaged worker over a real broker and registry, then end-to-end latency at half of the measured peak. Writes
 * docs/benchmarks-worker.md.
 *
 * <pre>
 * mvn -o -q -pl inference-worker -am install -DskipTests
 * cd inference-worker &amp;&amp; mvn -o -q dependency:build-classpath -Dmdep.outputFile=target/test-cp.txt -Dmdep.includeScope=test
 * DJL_OFFLINE=true DJL_CACHE_DIR=target/djl-cache OMP_NUM_THREADS=1 java -cp target/test-classes:target/classes:$(cat target/test-cp.txt) \
 *     io.labelscope.worker.WorkerBenchmark [--docs 96] [--out ../docs/benchmarks-worker.md]
 * </pre>
 */
public final class WorkerBenchmark {
    private static final RandomCheckpoint.Sizes SIZES = new RandomCheckpoint.Sizes(259, 512, 1376, 6, 8, 4, true);
    private static final int BATCH = 16;
    private static final int ROUNDS = 5;

    public static void main(String[] args) throws Exception {
        int docsArg = 96;
        Path out = Path.of("../docs/benchmarks-worker.md");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--docs" -> docsArg = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        final int docs = docsArg;
        Path model = Path.of("target", "bench-model").toAbsolutePath();
        if (!Files.isRegularFile(model.resolve("model.safetensors"))) {
            RandomCheckpoint.write(model, SIZES, 7);
        }
        TaskDefinition task = TestSupport.task().withMaxNewTokens(16);
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < docs; i++) {
            texts.add(TestSupport.text(i));
        }

        TestPlatform p = TestPlatform.get();
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String topic = "bench-" + tag;
        TestSupport.ensureTopics(p, topic, 3);
        TestSupport.registerTask(p, task);
        Map<String, String> cfg = new HashMap<>();
        cfg.put("kafka.bootstrap.servers", p.bootstrapServers());
        cfg.put("labelscope.registry.url", p.registryUrl());
        cfg.put("labelscope.worker.model.path", model.toString());
        cfg.put("labelscope.worker.model.name", "bench-random-llama");
        cfg.put("labelscope.worker.model.threads", "1");
        cfg.put("labelscope.worker.instance-id", "bench-" + tag);
        cfg.put("labelscope.worker.group-id", "bench-" + tag);
        cfg.put("labelscope.worker.documents-topic", topic);
        cfg.put("labelscope.worker.batch-size", Integer.toString(BATCH));
        cfg.put("labelscope.worker.linger", "PT0.05S");
        List<double[]> rounds = new ArrayList<>();
        double[] latencies;
        double rate;
        double meanBatch;
        long offlineTokens = 0;
        try (ServiceProcess w = ServiceProcess.start("bench-worker", TestSupport.workerJar(), cfg);
             Arrivals arrivals = new Arrivals(p);
             LlmModel m = LlmModel.load(model, new RuntimeConfig("cpu", RuntimeConfig.ComputeType.F32, BATCH, 1));
             LabelDecoder d = new LabelDecoder(m, task, true)) {
            w.awaitLog("assigned partitions \\[" + topic, 1, Duration.ofMinutes(3));
            // Warm-up of both paths: one batch each (JIT, registry lookups, prefix cache).
            d.classify(texts.subList(0, BATCH));
            send(p, topic, "warm-" + tag + "-", texts.subList(0, BATCH), 0);
            arrivals.await("warm-" + tag + "-", BATCH, Duration.ofMinutes(3));
            // The box is shared: alternate offline and service rounds so both see the same conditions.
            for (int round = 0; round < ROUNDS; round++) {
                // Offline: the runtime alone in this JVM (the idle worker only polls), same batches, same prefix
                // reuse, one libtorch thread like the worker.
                long t0 = System.nanoTime();
                for (int from = 0; from < docs; from += BATCH) {
                    for (GenerationResult g : d.classify(texts.subList(from, Math.min(docs, from + BATCH)))) {
                        offlineTokens += g.generatedTokens();
                    }
                }
                double offlineSeconds = (System.nanoTime() - t0) / 1e9;
                // Through Kafka: a backlog of the same documents, produce → read_committed generations.
                String backlog = "backlog-" + round + "-" + tag + "-";
                long t1 = System.nanoTime();
                send(p, topic, backlog, texts, 0);
                arrivals.await(backlog, docs, Duration.ofMinutes(10));
                double serviceSeconds = (arrivals.last(backlog) - t1) / 1e9;
                rounds.add(new double[] {offlineSeconds, serviceSeconds});
                System.out.printf("round %d: offline %.2f docs/s, service %.2f docs/s (%.1f%%)%n", round,
                        docs / offlineSeconds, docs / serviceSeconds, offlineSeconds / serviceSeconds * 100);
            }
            meanBatch = w.metric("labelscope_worker_batch_size_sum") / w.metric("labelscope_worker_batch_size_count");
            double bestService = rounds.stream().mapToDouble(r -> docs / r[1]).max().orElseThrow();
            // Latency at half of the measured peak: documents arrive one by one at that rate.
            rate = bestService / 2;
            String paced = "paced-" + tag + "-";
            int n = Math.max(32, docs / 2);
            List<String> pacedTexts = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                pacedTexts.add(texts.get(i % texts.size()));
            }
            send(p, topic, paced, pacedTexts, rate);
            arrivals.await(paced, n, Duration.ofMinutes(10));
            latencies = arrivals.latenciesMillis(paced);
            w.stop(Duration.ofSeconds(60));
        }
        double offlineSecondsTotal = rounds.stream().mapToDouble(r -> r[0]).sum();
        double serviceSecondsTotal = rounds.stream().mapToDouble(r -> r[1]).sum();
        double offlineDocsPerS = docs * rounds.size() / offlineSecondsTotal;
        double serviceDocsPerS = docs * rounds.size() / serviceSecondsTotal;
        Arrays.sort(latencies);
        double p50 = latencies[(int) Math.floor(0.50 * (latencies.length - 1))];
        double p99 = latencies[(int) Math.ceil(0.99 * (latencies.length - 1))];
        double ratio = serviceDocsPerS / offlineDocsPerS;
        System.out.printf("latency at %.2f docs/s: p50 %.0f ms, p99 %.0f ms; service/offline = %.1f%%%n", rate, p50, p99,
                ratio * 100);

        StringBuilder md = new StringBuilder();
        md.append("# Inference worker benchmark\n\n");
        md.append("Date: ").append(LocalDate.now()).append(". Machine: 2-core x86 CPU, no GPU (")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores visible to the JVM; the box is shared ")
                .append("with other builds, so absolute numbers move from run to run). libtorch 2.7.1 CPU via DJL 0.36.0, F32, ")
                .append("one intra-op thread in both runs. Broker: Kafka 4.1.2 KRaft in the benchmark JVM; registry: ")
                .append("Apicurio 2.6.13 child process; worker: the packaged `quarkus-run.jar` as a child process.\n\n");
        md.append(String.format("Model: random Llama, %.1fM parameters (hidden %d, intermediate %d, %d layers, %d heads, "
                + "%d KV heads, byte-level tokenizer). Task: %d labels, comma list, %d demos, at most %d new tokens. "
                + "%d documents per round, %d rounds alternating offline and service, batches of %d, shared-prefix cache on.%n%n", SIZES.parameters() / 1e6, SIZES.hidden(),
                SIZES.inter(), SIZES.layers(), SIZES.heads(), SIZES.kvHeads(), task.labels().size(), task.k(),
                task.maxNewTokens(), docs, ROUNDS, BATCH));
        md.append("| measurement | value |\n|---|---|\n");
        for (int r = 0; r < rounds.size(); r++) {
            md.append(String.format("| round %d: offline / through Kafka | %.2f / %.2f documents/s (%.1f%%) |%n", r + 1,
                    docs / rounds.get(r)[0], docs / rounds.get(r)[1], rounds.get(r)[0] / rounds.get(r)[1] * 100));
        }
        md.append(String.format("| runtime offline (`LabelDecoder.classify`, same batches), all rounds | %.2f documents/s (%.1f generated tokens/s) |%n",
                offlineDocsPerS, offlineTokens / offlineSecondsTotal));
        md.append(String.format("| through Kafka (backlog: produce → read_committed generations), all rounds | %.2f documents/s |%n",
                serviceDocsPerS));
        md.append(String.format("| mean batch in the worker (warm-up + backlog rounds) | %.1f records |%n", meanBatch));
        double[] perRound = rounds.stream().mapToDouble(r -> r[0] / r[1]).sorted().toArray();
        md.append(String.format("| service / offline, all rounds | **%.1f%%** (target ≥ 90%%); per round: median %.1f%%, "
                + "min %.1f%%, max %.1f%% |%n", ratio * 100, perRound[perRound.length / 2] * 100, perRound[0] * 100,
                perRound[perRound.length - 1] * 100));
        md.append(String.format("| end-to-end latency at %.2f documents/s (half of peak), %d documents | p50 %.0f ms, p99 %.0f ms |%n",
                rate, latencies.length, p50, p99));
        md.append("\nEnd-to-end latency = time a read_committed consumer receives the generation − the document's "
                + "`submitted_at` (set when it is produced). It includes the linger (50 ms), the batch the document "
                + "waits for, decoding, and the transaction commit.\n\n");
        md.append("Command (from `inference-worker/`, after `mvn -o -q -pl inference-worker -am install -DskipTests`):\n\n")
                .append("```\nmvn -o -q dependency:build-classpath -Dmdep.outputFile=target/test-cp.txt -Dmdep.includeScope=test\n")
                .append("DJL_OFFLINE=true DJL_CACHE_DIR=target/djl-cache OMP_NUM_THREADS=1 java -cp \"target/test-classes:target/classes:$(cat target/test-cp.txt)\" \\\n")
                .append("    io.labelscope.worker.WorkerBenchmark --docs ").append(docs).append(" --out ../docs/benchmarks-worker.md\n```\n");
        Files.writeString(out, md.toString());
        System.out.println(md);
        System.exit(0);
    }

    /** Produces documents; {@code rate} documents/s when positive, else all at once. */
    private static void send(TestPlatform p, String topic, String prefix, List<String> texts, double rate)
            throws Exception {
        try (KafkaProducer<String, SpecificRecord> prod = TestSupport.avroProducer(p)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < texts.size(); i++) {
                if (rate > 0) {
                    long due = t0 + (long) (i / rate * 1e9);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    }
                }
                String id = prefix + i;
                Document d = Document.newBuilder(TestSupport.doc(id, texts.get(i))).setSubmittedAt(Instant.now()).build();
                submitted.put(id, d.getSubmittedAt().toEpochMilli());
                prod.send(new ProducerRecord<>(topic, id, d));
                if (rate > 0) {
                    prod.flush();
                }
            }
        }
    }

    /** Generations as a read_committed consumer receives them: arrival time and latency per document. */
    private static final class Arrivals implements AutoCloseable {
        private final Map<String, long[]> seen = new ConcurrentHashMap<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Arrivals(TestPlatform p) {
            Map<String, Object> c = new HashMap<>(AvroSerdeConfig.consumer(p.registryUrl()));
            c.putAll(KafkaSettings.serde(p.registryUrl()));
            c.put("bootstrap.servers", p.bootstrapServers());
            c.put("isolation.level", "read_committed");
            c.put("enable.auto.commit", false);
            KafkaConsumer<String, Decoded<Generation>> consumer = new KafkaConsumer<>(c);
            List<TopicPartition> parts = consumer.partitionsFor(Topics.GENERATIONS).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToEnd(parts);
            parts.forEach(consumer::position);
            thread = new Thread(() -> {
                try (consumer) {
                    while (running.get()) {
                        for (ConsumerRecord<String, Decoded<Generation>> r : consumer.poll(Duration.ofMillis(20))) {
                            long now = System.nanoTime();
                            long wall = System.currentTimeMillis();
                            seen.putIfAbsent(r.key(), new long[] {now, wall});
                        }
                    }
                }
            }, "arrivals");
            thread.start();
        }

        void await(String prefix, int n, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count(prefix) < n) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("only " + count(prefix) + " of " + n + " generations arrived");
                }
                Thread.sleep(20);
            }
        }

        long count(String prefix) {
            return seen.keySet().stream().filter(k -> k.startsWith(prefix)).count();
        }

        long last(String prefix) {
            return seen.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToLong(e -> e.getValue()[0])
                    .max().orElseThrow();
        }

        /** Arrival wall time − submitted_at; submitted_at is when the benchmark produced the document. */
        double[] latenciesMillis(String prefix) {
            return seen.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
                    .mapToDouble(e -> e.getValue()[1] - submitted.getOrDefault(e.getKey(), e.getValue()[1]))
                    .toArray();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(5000);
        }
    }

    private static final Map<String, Long> submitted = new ConcurrentHashMap<>();
}
