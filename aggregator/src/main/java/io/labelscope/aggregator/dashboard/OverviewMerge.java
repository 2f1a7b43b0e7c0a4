package io.labelscope.aggregator.dashboard;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The dashboard's overview of several instances of one application id, from each instance's part (the JSON of
 * {@link Overview#localPart()}, as {@code GET /api/overview/part} serves it; numbers may come back as any
 * {@link Number}). A pure function, so that the rules below are tested on their own:
 * <ul>
 *   <li>counts, and each task/model pair's counts, are sums: every partition is active on exactly one instance,
 *       so each document is counted by one part;</li>
 *   <li>a pair's {@code last_update} is the latest of the parts';</li>
 *   <li>recent documents, all of them and each pair's: the newest {@code limit} of all parts' lists (each part
 *       sends its own newest {@code limit}, so the newest {@code limit} overall are among them);</li>
 *   <li>dead letters by error type: counts are sums (each partition of {@code dead-letters} is counted by one
 *       part), the latest reason is the one of the newest dead letter ({@link #addDeadLetters});</li>
 *   <li>throughput: rates, lags and totals are sums over the parts that know them (null where none does);</li>
 *   <li>{@code streams_state}: RUNNING only if every part is RUNNING, else the first part's state that is not,
 *       and UNREACHABLE while an instance known to the group does not answer, since the picture is partial
 *       then; {@code instances} lists each part's instance and state.</li>
 * </ul>
 */
final class OverviewMerge {

    static final String RUNNING = "RUNNING";
    static final String UNREACHABLE = "UNREACHABLE";

    private OverviewMerge() {
    }

    /**
     * @param parts       each answering instance's part, this instance's first
     * @param unreachable instances known to the group that did not answer (host:port, with the reason)
     * @param limit       how many recent documents to keep
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> merge(List<Map<String, Object>> parts, List<String> unreachable, int limit) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("generated_at", Instant.now().toString());
        body.put("streams_state", state(parts, unreachable));

        Map<String, Object> counts = new LinkedHashMap<>();
        Map<String, Map<String, Object>> pairs = new TreeMap<>();
        List<Map<String, Object>> recent = new ArrayList<>();
        List<Map<String, Object>> throughputs = new ArrayList<>();
        List<Map<String, Object>> instances = new ArrayList<>();
        Map<String, Map<String, Object>> deadLetters = new TreeMap<>();
        for (Map<String, Object> part : parts) {
            sumInto(counts, (Map<String, Object>) part.get("counts"));
            for (Map<String, Object> pair : (List<Map<String, Object>>) part.getOrDefault("pairs", List.of())) {
                String key = pair.get("task") + "\u0000" + pair.get("model") + "\u0000" + pair.get("version");
                Map<String, Object> merged = pairs.get(key);
                if (merged == null) {
                    merged = new LinkedHashMap<>(pair);
                    merged.replaceAll((field, value) -> value instanceof Number ? sum(null, value) : value);
                    pairs.put(key, merged);
                } else {
                    for (String field : List.of("documents", "documents_aligned", "pending_runs")) {
                        merged.put(field, sum(merged.get(field), pair.get(field)));
                    }
                    merged.put("last_update", latest((String) merged.get("last_update"),
                            (String) pair.get("last_update")));
                    // (absent from the part of an instance still running a version without per-pair lists)
                    if (merged.containsKey("recent_documents") || pair.containsKey("recent_documents")) {
                        List<Map<String, Object>> both = new ArrayList<>(
                                (List<Map<String, Object>>) merged.getOrDefault("recent_documents", List.of()));
                        both.addAll((List<Map<String, Object>>) pair.getOrDefault("recent_documents", List.of()));
                        merged.put("recent_documents", newest(both, limit));
                    }
                }
            }
            recent.addAll((List<Map<String, Object>>) part.getOrDefault("recent_documents", List.of()));
            ((Map<String, Map<String, Object>>) part.getOrDefault("dead_letters", Map.of()))
                    .forEach((type, tally) -> addDeadLetters(deadLetters, type, tally));
            if (part.get("throughput") instanceof Map<?, ?> t) {
                throughputs.add((Map<String, Object>) t);
            }
            Map<String, Object> instance = new LinkedHashMap<>();
            instance.put("instance", part.get("instance"));
            instance.put("streams_state", part.get("streams_state"));
            instances.add(instance);
        }
        body.put("counts", counts);
        body.put("dead_letters", deadLetters);
        body.put("pairs", new ArrayList<>(pairs.values()));
        body.put("recent_documents", newest(recent, limit));
        body.put("throughput", sumThroughput(throughputs));
        body.put("instances", instances);
        body.put("instances_unreachable", unreachable);
        body.put("scope", unreachable.isEmpty() ? "all " + parts.size() + " instances"
                : parts.size() + " of " + (parts.size() + unreachable.size()) + " instances (partial: "
                + String.join(", ", unreachable) + " did not answer)");
        return body;
    }

    /** The newest {@code limit} rows of recent-document lists, newest first (ties: by document id). */
    private static List<Map<String, Object>> newest(List<Map<String, Object>> rows, int limit) {
        List<Map<String, Object>> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparingLong((Map<String, Object> r) -> ((Number) r.get("updated_at_ms")).longValue())
                .reversed().thenComparing(r -> String.valueOf(r.get("document_id"))));
        return new ArrayList<>(sorted.subList(0, Math.min(limit, sorted.size())));
    }

    /**
     * Adds one count of an error type's dead letters (a stream task's, or an instance's part) to {@code byType}:
     * the counts add up, and the {@code latest_*} fields are those of the newer dead letter
     * ({@code latest_failed_at_ms}; on a tie, the greater reason), so every instance, whichever part is its own
     * and comes first, shows the same.
     */
    static void addDeadLetters(Map<String, Map<String, Object>> byType, String errorType,
                               Map<String, Object> tally) {
        Map<String, Object> before = byType.get(errorType);
        Map<String, Object> after = new LinkedHashMap<>(tally);
        after.put("count", sum(null, tally.get("count")));
        if (before != null) {
            long newestBefore = ((Number) before.get("latest_failed_at_ms")).longValue();
            long newestNow = ((Number) tally.get("latest_failed_at_ms")).longValue();
            boolean keepBefore = newestBefore > newestNow || newestBefore == newestNow
                    && String.valueOf(before.get("latest_reason")).compareTo(String.valueOf(tally.get("latest_reason"))) >= 0;
            if (keepBefore) {
                after = new LinkedHashMap<>(before);
            }
            after.put("count", sum(before.get("count"), tally.get("count")));
        }
        if (after.get("latest_failed_at_ms") instanceof Number ms) {
            after.put("latest_failed_at_ms", ms.longValue());
        }
        byType.put(errorType, after);
    }

    private static String state(List<Map<String, Object>> parts, List<String> unreachable) {
        for (Map<String, Object> part : parts) {
            Object s = part.get("streams_state");
            if (!RUNNING.equals(s)) {
                return String.valueOf(s);
            }
        }
        return unreachable.isEmpty() ? RUNNING : UNREACHABLE;
    }

    /** Rates, lags and totals summed (maps of them key by key); null where no part has a number. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> sumThroughput(List<Map<String, Object>> throughputs) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map<String, Object> t : throughputs) {
            for (Map.Entry<String, Object> e : t.entrySet()) {
                Object before = out.get(e.getKey());
                if (e.getValue() instanceof Map<?, ?> m) {
                    Map<String, Object> into = before instanceof Map<?, ?> b ? (Map<String, Object>) b
                            : new LinkedHashMap<>();
                    sumInto(into, (Map<String, Object>) m);
                    out.put(e.getKey(), into);
                } else {
                    out.put(e.getKey(), sum(before, e.getValue()));
                }
            }
        }
        return out;
    }

    private static void sumInto(Map<String, Object> into, Map<String, Object> part) {
        if (part == null) {
            return;
        }
        part.forEach((k, v) -> into.put(k, sum(into.get(k), v)));
    }

    /**
     * a + b, where null is "unknown" (the other counts alone); integers stay integers, as longs whether they were
     * computed here or read from JSON (where small ones come back as Integer).
     */
    static Object sum(Object a, Object b) {
        if (!(a instanceof Number x)) {
            return b instanceof Number y ? normalized(y) : null;
        }
        if (!(b instanceof Number y)) {
            return normalized(x);
        }
        if (isIntegral(x) && isIntegral(y)) {
            return x.longValue() + y.longValue();
        }
        return x.doubleValue() + y.doubleValue();
    }

    private static Number normalized(Number n) {
        return isIntegral(n) ? (Number) n.longValue() : (Number) n.doubleValue();
    }

    private static boolean isIntegral(Number n) {
        return n instanceof Long || n instanceof Integer || n instanceof Short || n instanceof Byte
                || n instanceof java.math.BigInteger;
    }

    /** The later of two ISO-8601 instants (parsed: their text varies in fraction digits); null is "never". */
    private static String latest(String a, String b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return Instant.parse(a).isBefore(Instant.parse(b)) ? b : a;
    }
}
