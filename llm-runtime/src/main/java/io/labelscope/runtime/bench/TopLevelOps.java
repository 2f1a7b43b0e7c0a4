package io.labelscope.runtime.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Top-level operators of a libtorch profiler trace (Chrome trace JSON from {@code JniUtils.stopProfile}): the
 * operator events that do not lie inside another one on the same thread, i.e. the calls the Java side made. Counts
 * and summed durations per operator name.
 */
record TopLevelOps(int total, Map<String, Integer> calls, Map<String, Double> micros) {

    static TopLevelOps read(Path trace) throws IOException {
        JsonNode root = new ObjectMapper().readTree(trace.toFile());
        JsonNode events = root.isArray() ? root : root.path("traceEvents");
        record Ev(String name, String thread, double ts, double dur) {}
        List<Ev> ops = new ArrayList<>();
        for (JsonNode e : events) {
            if (!"X".equals(e.path("ph").asText())) {
                continue;
            }
            String cat = e.path("cat").asText("");
            if (!cat.isEmpty() && !cat.equals("cpu_op") && !cat.equals("Operator")) {
                continue;
            }
            ops.add(new Ev(e.path("name").asText(), e.path("tid").asText(), e.path("ts").asDouble(),
                    e.path("dur").asDouble()));
        }
        // Outer events first: earlier start, then longer duration.
        ops.sort(Comparator.comparing(Ev::thread).thenComparingDouble(Ev::ts)
                .thenComparing(Comparator.comparingDouble(Ev::dur).reversed()));
        Map<String, Integer> calls = new LinkedHashMap<>();
        Map<String, Double> micros = new LinkedHashMap<>();
        int total = 0;
        String thread = null;
        double openUntil = Double.NEGATIVE_INFINITY;
        for (Ev e : ops) {
            if (!e.thread().equals(thread)) {
                thread = e.thread();
                openUntil = Double.NEGATIVE_INFINITY;
            }
            if (e.ts() < openUntil) {
                continue; // inside a top-level operator
            }
            openUntil = e.ts() + e.dur();
            total++;
            calls.merge(e.name(), 1, Integer::sum);
            micros.merge(e.name(), e.dur(), Double::sum);
        }
        return new TopLevelOps(total, calls, micros);
    }

    /** The {@code n} operators with the most time: "name calls (share %)", comma-separated. */
    String summary(int n) {
        double all = micros.values().stream().mapToDouble(Double::doubleValue).sum();
        StringBuilder sb = new StringBuilder();
        micros.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(n)
                .forEach(e -> sb.append(sb.length() == 0 ? "" : ", ").append(e.getKey()).append(' ')
                        .append(calls.get(e.getKey())).append(String.format(" (%.0f%%)", e.getValue() / all * 100)));
        return sb.append(String.format("; %.1f ms of operator time in all", all / 1e3)).toString();
    }
}
