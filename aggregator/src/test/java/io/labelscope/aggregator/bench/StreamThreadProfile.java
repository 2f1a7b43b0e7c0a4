package io.labelscope.aggregator.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a Kafka Streams stream thread's CPU goes, from a Java Flight Recorder file's execution samples of the
 * threads named {@code ...-StreamThread-N} (their clients' I/O threads are other threads): by the library of the
 * sampled frame, and by owner: the innermost frame of the stack that is one of the steps of the work below. Record
 * with {@code -XX:FlightRecorderOptions:stackdepth=256}: Kafka Streams' stacks are deeper than the default 64. Usage: {@code StreamThreadProfile FILE.jfr [FROM_EPOCH_MS TO_EPOCH_MS]}.
 */
public final class StreamThreadProfile {

    /**
     * Who a sample's time is for: the innermost frame on its stack that names one of these (class simple name +
     * "." + method prefix), so the shares add up to 100%: DocumentAssembler's own code is what is left of it once
     * its store reads, scoring and sends (each its own entry) are taken out.
     */
    private static final Map<String, List<String>> OWNERS = new LinkedHashMap<>();

    static {
        OWNERS.put("poll: fetching input (consumer)", List.of("StreamThread.pollRequests"));
        OWNERS.put("commit: offsets, transaction (commit path, less cache flush)", List.of("TaskManager.commit",
                "StreamThread.maybeCommit"));
        OWNERS.put("punctuation (MetricChangeBatcher flush, stream time)", List.of("StreamTask.punctuate",
                "StreamTask.maybePunctuate"));
        OWNERS.put("cache flush to changelog + RocksDB", List.of("ThreadCache.flush", "NamedCache.flush",
                "CachingKeyValueStore.flush"));
        OWNERS.put("Kafka Streams per-record machinery (StreamTask.process, forwarding, metrics)",
                List.of("StreamTask.process", "StreamThread.runOnce"));
        OWNERS.put("input decoding: InputDecoder (checks)", List.of("InputDecoder."));
        OWNERS.put("input decoding: Avro deserializer", List.of("FailSafeAvroDeserializer."));
        OWNERS.put("DocumentAssembler (own code)", List.of("DocumentAssembler."));
        OWNERS.put("state store get/put (Kafka Streams layers: metered, cache)", List.of("MeteredKeyValueStore.",
                "CachingKeyValueStore.", "KeyValueStoreReadWriteDecorator."));
        OWNERS.put("state serde: internal Avro encode", List.of("InternalAvroSerde.lambda$serializer",
                "InternalAvroSerde.lambda$mapped"));
        OWNERS.put("state serde: internal Avro decode", List.of("InternalAvroSerde.lambda$deserializer"));
        OWNERS.put("state <-> Avro record mapping", List.of("DocumentStateRecords.", "MetricStateRecords."));
        OWNERS.put("scoring: DocumentScoring", List.of("DocumentScoring."));
        OWNERS.put("scoring: paper-math", List.of("DocumentAnalysis.", "HumanDistribution.", "Alignment."));
        OWNERS.put("metric batching: MetricChangeBatcher", List.of("MetricChangeBatcher."));
        OWNERS.put("metric aggregates (all-time + windows)", List.of("KStreamAggregateProcessor.",
                "KStreamWindowAggregateProcessor."));
        OWNERS.put("output encoding: SchemaIdCachingSerializer", List.of("SchemaIdCachingSerializer."));
        OWNERS.put("output: AvroRecords (distribution record)", List.of("AvroRecords."));
        OWNERS.put("sending: RecordCollector + KafkaProducer.send", List.of("RecordCollectorImpl.send",
                "KafkaProducer.send", "KafkaProducer.doSend"));
        OWNERS.put("RocksDB", List.of("RocksDB.", "RocksDBStore."));
        OWNERS.put("logging", List.of("Logger.", "LoggerBase."));
    }

    public static void main(String[] args) throws IOException {
        print(Path.of(args[0]), args.length > 2 ? Instant.ofEpochMilli(Long.parseLong(args[1])) : Instant.MIN,
                args.length > 2 ? Instant.ofEpochMilli(Long.parseLong(args[2])) : Instant.MAX);
    }

    static void print(Path jfr, Instant from, Instant to) throws IOException {
        Map<String, Integer> byLibrary = new HashMap<>();
        Map<String, Integer> byOwner = new LinkedHashMap<>();
        OWNERS.keySet().forEach(o -> byOwner.put(o, 0));
        int truncated = 0;
        Map<String, Integer> leaves = new HashMap<>();
        int samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStartTime().isBefore(from)
                    || e.getStartTime().isAfter(to)) {
                continue;
            }
            String thread = e.getThread("sampledThread") == null ? "" : e.getThread("sampledThread").getJavaName();
            RecordedStackTrace stack = e.getStackTrace();
            if (thread == null || !thread.matches(".*StreamThread-\\d+") || stack == null
                    || stack.getFrames().isEmpty()) {
                continue;
            }
            samples++;
            List<RecordedFrame> frames = stack.getFrames();
            RecordedFrame leaf = frames.get(0);
            byLibrary.merge(library(leaf.getMethod().getType().getName()), 1, Integer::sum);
            leaves.merge(name(leaf), 1, Integer::sum);
            String owner = "(none of these)";
            search:
            for (RecordedFrame f : frames) {
                String name = name(f);
                for (Map.Entry<String, List<String>> o : OWNERS.entrySet()) {
                    for (String p : o.getValue()) {
                        if (name.startsWith(p)) {
                            owner = o.getKey();
                            break search;
                        }
                    }
                }
            }
            if (stack.isTruncated()) {
                truncated++;
            }
            byOwner.merge(owner, 1, Integer::sum);
        }
        System.out.printf("%nstream thread: %d execution samples%s%n", samples,
                stack(samples) + (from == Instant.MIN ? "" : " (measured documents only)"));
        System.out.println("by the sampled frame's library (self time):");
        printShares(byLibrary, samples, 20);
        System.out.printf("by owner (the innermost of these on the stack; %d stacks truncated):%n", truncated);
        printShares(byOwner, samples, OWNERS.size() + 1);
        System.out.println("hottest sampled methods:");
        printShares(leaves, samples, 15);
    }

    static void print(Path jfr) throws IOException {
        print(jfr, Instant.MIN, Instant.MAX);
    }

    private static String stack(int samples) {
        return samples == 0 ? " (none: was the recording made with settings=profile?)" : "";
    }

    private static void printShares(Map<String, Integer> counts, int total, int top) {
        counts.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(e -> System.out.printf("  %-78s %5.1f%%%n", e.getKey(), 100.0 * e.getValue() / total));
    }

    private static String name(RecordedFrame f) {
        String type = f.getMethod().getType().getName();
        return type.substring(type.lastIndexOf('.') + 1).replaceFirst("\\$.*", "") + "." + f.getMethod().getName();
    }

    private static String library(String type) {
        if (type.startsWith("io.labelscope.math.")) {
            return "paper-math";
        }
        if (type.startsWith("io.labelscope.")) {
            return "labelscope (" + type.substring(type.lastIndexOf('.') + 1).replaceFirst("\\$.*", "") + ")";
        }
        for (String lib : List.of("org.apache.kafka.streams.state", "org.apache.kafka.streams.processor",
                "org.apache.kafka.streams", "org.apache.kafka.clients", "org.apache.kafka.common", "org.apache.avro",
                "org.rocksdb", "io.apicurio", "java.util", "java.lang", "java.io", "java.nio", "jdk.", "sun.")) {
            if (type.startsWith(lib)) {
                return lib;
            }
        }
        return "other (" + type + ")";
    }
}
