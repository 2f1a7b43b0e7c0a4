package io.labelscope.aggregator.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.aggregator.PlatformWithTopics;
import io.labelscope.platform.testing.TestPlatform;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The aggregator's throughput, before and after a change, against the decode-only floor: one command (a
 * benchmark, not a test) that runs {@link AggregatorBenchmark} in a fresh child JVM per variant, alternating
 * floor, before, after for each round, all on one broker and registry (started here), and prints one table.
 *
 * <p>Why this way: the machine is shared, so absolute rates move with the other builds' load; only ratios measured
 * minutes apart in one run compare, and stream-thread CPU time per document, which the load does not change. A
 * child JVM per variant keeps their JIT compilers, caches and classes apart and leaves the broker's CPU out of the
 * variant's JVM CPU; "before" is the same benchmark with another commit's aggregator classes first on the class
 * path (compiled here from {@code git archive}, so the benchmark and every other module are the same).
 *
 * <p>Usage: {@code AggregatorComparison [--before COMMIT|CLASSES_DIR] [--rounds 2] [--variants floor,before,after]
 * [--profile after] [--child-xmx 1g]} plus {@link AggregatorBenchmark}'s {@code --warmup-documents},
 * {@code --documents}, {@code --latency-documents}, {@code --steps}, {@code --commit-interval-ms},
 * {@code --streams name=value,...} (Kafka Streams settings), passed on.
 * {@code --profile V} runs variant V once more at the end under Java Flight Recorder and prints where its stream
 * thread's samples are ({@link StreamThreadProfile}).
 */
public final class AggregatorComparison {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> PASSED_ON = List.of("warmup-documents", "documents", "latency-documents",
            "steps", "commit-interval-ms", "threads", "streams");

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opts.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        opts.putIfAbsent("warmup-documents", "20000");
        opts.putIfAbsent("documents", "20000");
        opts.putIfAbsent("latency-documents", "20");
        int rounds = Integer.parseInt(opts.getOrDefault("rounds", "2"));
        List<String> variants = new ArrayList<>(List.of(opts.getOrDefault("variants",
                opts.containsKey("before") ? "floor,before,after" : "floor,after").split(",")));
        String profile = opts.get("profile");
        String ownClassPath = System.getProperty("java.class.path");
        Map<String, String> classPaths = new HashMap<>();
        classPaths.put("floor", ownClassPath);
        classPaths.put("after", ownClassPath);
        if (variants.contains("before") || "before".equals(profile)) {
            if (!opts.containsKey("before")) {
                throw new IllegalArgumentException("variant 'before' needs --before COMMIT|CLASSES_DIR");
            }
            classPaths.put("before", beforeClasses(opts.get("before")) + File.pathSeparator + ownClassPath);
        }

        TestPlatform platform = TestPlatform.get();
        PlatformWithTopics.createPublicTopics(platform);
        System.out.printf("comparison: %s, %d rounds, broker %s, registry %s%n", variants, rounds,
                platform.bootstrapServers(), platform.registryUrl());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            Double floorRate = null;
            for (String variant : variants) {
                JsonNode r = runChild(variant, classPaths.get(variant), platform, opts, null);
                double rate = r.get("topology_step_events_per_s").asDouble();
                if (variant.equals("floor")) {
                    floorRate = rate;
                }
                rows.add(row(variant + ", " + round, r, floorRate));
                printTable(rows);
            }
        }
        if (profile != null) {
            Path jfr = Files.createTempFile("aggregator-" + profile + "-", ".jfr");
            JsonNode r = runChild(profile, classPaths.get(profile), platform, opts, jfr);
            rows.add(row(profile + ", JFR profile", r, null));
            printTable(rows);
            StreamThreadProfile.print(jfr, java.time.Instant.ofEpochMilli(r.get("measured_from_epoch_ms").asLong()),
                    java.time.Instant.ofEpochMilli(r.get("measured_to_epoch_ms").asLong()));
            System.out.println("recording: " + jfr);
        }
        System.exit(0);
    }

    /**
     * The classes of the aggregator at a commit: the directory itself when given one, else {@code git archive}
     * of the root pom and the aggregator at that commit, compiled once into {@code target/bench-before/COMMIT}
     * (against the installed other modules, as this checkout's build would).
     */
    static String beforeClasses(String before) throws IOException, InterruptedException {
        if (new File(before).isDirectory()) {
            return before;
        }
        String root = run(List.of("git", "rev-parse", "--show-toplevel"), null).trim();
        String commit = run(List.of("git", "rev-parse", "--short", before + "^{commit}"), null).trim();
        Path dir = Path.of(root, "aggregator", "target", "bench-before", commit);
        Path classes = dir.resolve("aggregator/target/classes");
        if (!Files.isDirectory(classes.resolve("io/labelscope/aggregator"))) {
            Files.createDirectories(dir);
            run(List.of("bash", "-c", "git -C '" + root + "' archive " + commit + " pom.xml aggregator | tar -x -C '"
                    + dir + "'"), null);
            System.out.println("compiling the aggregator at " + commit + " into " + classes);
            run(List.of("mvn", "-o", "-q", "-f", dir.resolve("aggregator/pom.xml").toString(), "compile"), null);
        }
        return classes.toString();
    }

    private static String run(List<String> command, File dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + out);
        }
        return out;
    }

    /** One benchmark in a fresh JVM; its output is echoed, prefixed with the variant, and its result returned. */
    private static JsonNode runChild(String variant, String classPath, TestPlatform platform,
                                     Map<String, String> opts, Path jfr) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx" + opts.getOrDefault("child-xmx", "1g")));
        if (jfr != null) {
            command.add("-XX:FlightRecorderOptions:stackdepth=256");
            command.add("-XX:StartFlightRecording=filename=" + jfr + ",settings=profile");
        }
        command.addAll(List.of("-cp", classPath, AggregatorBenchmark.class.getName(),
                "--bootstrap", platform.bootstrapServers(), "--registry", platform.registryUrl(),
                "--plain-consumer", "false", "--topology", variant.equals("floor") ? "floor" : "aggregator"));
        for (String name : PASSED_ON) {
            if (opts.containsKey(name)) {
                command.addAll(List.of("--" + name, opts.get(name)));
            }
        }
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        JsonNode result = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith(AggregatorBenchmark.RESULT)) {
                    result = JSON.readTree(line.substring(AggregatorBenchmark.RESULT.length()));
                }
                // Progress and results; the child's library logging (Kafka's INFO lines) would drown them.
                if (line.startsWith("progress") || line.startsWith("benchmark") || line.startsWith("result")
                        || line.contains("Exception")) {
                    System.out.println("[" + variant + "] " + line);
                }
            }
        }
        int exit = child.waitFor();
        if (result == null || exit != 0) {
            throw new IllegalStateException("benchmark of " + variant + " exited " + exit + " without a result");
        }
        return result;
    }

    private static Map<String, Object> row(String name, JsonNode r, Double floorRate) {
        Map<String, Object> row = new LinkedHashMap<>();
        JsonNode cpu = r.get("cpu_ms_per_document_by_thread");
        JsonNode thread = r.get("stream_thread");
        double rate = r.get("topology_step_events_per_s").asDouble();
        row.put("run", name);
        row.put("started (UTC)", r.get("started_at").asText().substring(11, 16));
        row.put("load", r.get("load_average").get(0).asText() + "-" + r.get("load_average").get(1).asText());
        row.put("step events/s", String.format("%,.0f", rate));
        row.put("/ floor", floorRate == null ? "-" : String.format("%.3f", rate / floorRate));
        row.put("stream thread CPU/doc", ms(r.get("cpu_ms_per_document_stream_thread").asDouble()));
        row.put("+ its producer", ms(r.get("cpu_ms_per_document_stream_threads").asDouble()));
        row.put("JVM CPU/doc", ms(r.get("cpu_ms_per_document_jvm").asDouble()));
        row.put("JIT/doc", cpu.has("jvm: JIT compiler") ? ms(cpu.get("jvm: JIT compiler").asDouble()) : "-");
        row.put("poll-ratio", thread.has("poll-ratio") ? thread.get("poll-ratio").asText() : "-");
        row.put("latency p50/p99", r.get("latency_p50_ms").asText() + " / " + r.get("latency_p99_ms").asText()
                + " ms");
        return row;
    }

    private static String ms(double v) {
        return String.format("%.3f ms", v);
    }

    /** The rows so far as a Markdown table (printed after every run, so a stopped comparison still has one). */
    private static void printTable(List<Map<String, Object>> rows) {
        StringBuilder t = new StringBuilder("\n| ").append(String.join(" | ", rows.get(0).keySet())).append(" |\n|");
        rows.get(0).keySet().forEach(k -> t.append("---|"));
        for (Map<String, Object> row : rows) {
            t.append("\n|");
            row.values().forEach(v -> t.append(' ').append(v).append(" |"));
        }
        System.out.println(t.append('\n'));
    }
}
