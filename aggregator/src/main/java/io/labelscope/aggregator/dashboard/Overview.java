package io.labelscope.aggregator.dashboard;

import io.labelscope.aggregator.input.DeadLetterCounts;

import io.labelscope.aggregator.Keys;
import io.labelscope.aggregator.TopologyProducer;
import io.labelscope.aggregator.avro.DeadLetterTallyRecord;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.avro.DistributionStateRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.RunRecord;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.aggregator.rest.InteractiveQueries;
import io.labelscope.schemas.Configuration;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The dashboard's header and lists: task/model pairs, document counts, recent documents (all, and per pair),
 * dead letters by error type, throughput and lag.
 *
 * <p>Each instance computes its part from its own stores and Kafka Streams metrics ({@link #localPart()}: the
 * partitions it hosts as active). With several instances of one application id ({@code application.server}
 * set), {@link #current()} also fetches every other instance's part ({@code GET /api/overview/part}, bounded by
 * {@code labelscope.aggregator.forward-timeout}) and merges them ({@link OverviewMerge}), so the dashboard shows
 * the whole picture from whichever instance it is served by; an instance that does not answer is named in
 * {@code instances_unreachable}. Both are computed at most every {@link #MAX_AGE_MILLIS} however many pages
 * poll, because a part walks the documents store.
 */
@ApplicationScoped
public class Overview {

    static final long MAX_AGE_MILLIS = 500;
    static final int RECENT = 15;
    static final String PART_PATH = "/api/overview/part";

    @Inject
    KafkaStreams streams;

    @Inject
    StreamsRates rates;

    @Inject
    InteractiveQueries queries;

    @Inject
    ObjectMapper json;

    /*
     * Two locks: while this instance waits for another's part under mergedLock, that instance may be waiting for
     * this one's part at the same moment; partLock must stay free for it, or both would wait out the timeout.
     */
    private final Object mergedLock = new Object();
    private final Object partLock = new Object();
    private Map<String, Object> cachedPart;
    private long cachedPartAt;
    private Map<String, Object> cached;
    private long cachedAt;

    /** The overview of every instance (of this one alone when it is the only one). */
    public Map<String, Object> current() {
        synchronized (mergedLock) {
            long now = System.currentTimeMillis();
            if (cached == null || now - cachedAt >= MAX_AGE_MILLIS) {
                cached = merged();
                cachedAt = now;
            }
            return cached;
        }
    }

    /** This instance's part: the partitions it hosts. */
    public Map<String, Object> localPart() {
        synchronized (partLock) {
            long now = System.currentTimeMillis();
            if (cachedPart == null || now - cachedPartAt >= MAX_AGE_MILLIS) {
                cachedPart = compute();
                cachedPartAt = now;
            }
            return cachedPart;
        }
    }

    private Map<String, Object> merged() {
        List<HostInfo> others = queries.instances().stream().filter(h -> !queries.isThisInstance(h)).toList();
        if (others.isEmpty()) {
            return localPart();
        }
        Map<HostInfo, CompletableFuture<HttpResponse<String>>> asked = new LinkedHashMap<>();
        others.forEach(h -> asked.put(h, queries.get(h, PART_PATH)));
        List<Map<String, Object>> parts = new ArrayList<>();
        parts.add(localPart());
        List<String> unreachable = new ArrayList<>();
        asked.forEach((host, answer) -> {
            String name = host.host() + ":" + host.port();
            try {
                HttpResponse<String> r = answer.get();
                if (r.statusCode() != 200) {
                    unreachable.add(name + " (HTTP " + r.statusCode() + ")");
                } else {
                    parts.add(json.readValue(r.body(), new TypeReference<Map<String, Object>>() { }));
                }
            } catch (ExecutionException | IOException e) {
                unreachable.add(name + " (" + (e instanceof ExecutionException ? e.getCause() : e) + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                unreachable.add(name + " (interrupted)");
            }
        });
        return OverviewMerge.merge(parts, unreachable, RECENT);
    }

    private static final class PairCounts {
        long documents;
        long aligned;
        long pendingRuns;
        long lastUpdate;
        /** The pair's newest {@link #RECENT} distributions, oldest at the head. */
        final PriorityQueue<DistributionStateRecord> recent = recentQueue();
    }

    private static PriorityQueue<DistributionStateRecord> recentQueue() {
        return new PriorityQueue<>(
                Comparator.comparingLong(DistributionStateRecord::getUpdatedAt).thenComparing(DistributionStateRecord::getDocumentId));
    }

    private static void keepNewest(PriorityQueue<DistributionStateRecord> recent, DistributionStateRecord d) {
        recent.add(d);
        if (recent.size() > RECENT) {
            recent.poll();
        }
    }

    private static List<Map<String, Object>> newestFirst(PriorityQueue<DistributionStateRecord> recent) {
        List<DistributionStateRecord> sorted = new ArrayList<>(recent);
        sorted.sort(Comparator.comparingLong(DistributionStateRecord::getUpdatedAt).reversed()
                .thenComparing(DistributionStateRecord::getDocumentId));
        return sorted.stream().map(DashboardViews::recent).toList();
    }

    private Map<String, Object> compute() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("generated_at", Instant.now().toString());
        body.put("instance", queries.advertisedName());
        body.put("streams_state", stateName());
        Map<String, PairCounts> pairs = new TreeMap<>();
        for (String key : keys(TopologyProducer.ALIGNMENT_STORE)) {
            pairs.computeIfAbsent(key, k -> new PairCounts());
        }
        for (String key : keys(TopologyProducer.SPIKINESS_STORE)) {
            pairs.computeIfAbsent(key, k -> new PairCounts());
        }

        long documents = 0;
        long withDistribution = 0;
        long aligned = 0;
        long pending = 0;
        long annotatedOnly = 0;
        PriorityQueue<DistributionStateRecord> recent = recentQueue();
        ReadOnlyKeyValueStore<String, DocumentStateRecord> docs = store(TopologyProducer.DOCUMENTS_STORE);
        if (docs != null) {
            try (KeyValueIterator<String, DocumentStateRecord> it = docs.all()) {
                while (it.hasNext()) {
                    DocumentStateRecord state = it.next().value;
                    documents++;
                    boolean hasDistribution = false;
                    boolean isAligned = false;
                    for (RunRecord run : state.getRuns()) {
                        // One pair per configuration: each task version of a model is listed (and counted) apart.
                        PairCounts pc = pairs.computeIfAbsent(
                                Keys.taskModel(state.getTask(), Configuration.of(run.getModel(), run.getTaskVersion())),
                                k -> new PairCounts());
                        if (run.getEmitted() == null) {
                            pending++;
                            pc.pendingRuns++;
                            continue;
                        }
                        DistributionStateRecord d = run.getEmitted().getDistribution();
                        hasDistribution = true;
                        pc.documents++;
                        pc.lastUpdate = Math.max(pc.lastUpdate, d.getUpdatedAt());
                        if (d.getAnnotators() > 0) {
                            isAligned = true;
                            pc.aligned++;
                        }
                        keepNewest(recent, d);
                        keepNewest(pc.recent, d);
                    }
                    if (hasDistribution) {
                        withDistribution++;
                    }
                    if (isAligned) {
                        aligned++;
                    }
                    if (state.getRuns().isEmpty() && !state.getAnnotations().isEmpty()) {
                        annotatedOnly++;
                    }
                }
            } catch (InvalidStateStoreException e) {
                body.put("store_error", e.getMessage());
            }
        }
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("documents", documents);
        counts.put("documents_with_distribution", withDistribution);
        counts.put("documents_aligned", aligned);
        counts.put("pending_runs", pending);
        counts.put("documents_waiting_for_a_model", annotatedOnly);
        Map<String, Map<String, Object>> deadLetters = deadLettersByErrorType();
        counts.put("dead_letters", deadLetters.values().stream()
                .mapToLong(t -> ((Number) t.get("count")).longValue()).sum());
        body.put("counts", counts);
        body.put("dead_letters", deadLetters);

        List<Map<String, Object>> pairList = new ArrayList<>();
        pairs.forEach((key, pc) -> {
            int sep = key.indexOf(Keys.SEPARATOR);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", sep < 0 ? key : key.substring(0, sep));
            Configuration c = Configuration.parse(sep < 0 ? "" : key.substring(sep + Keys.SEPARATOR.length()));
            m.put("model", c.model());
            m.put("version", c.taskVersion());
            m.put("documents", pc.documents);
            m.put("documents_aligned", pc.aligned);
            m.put("pending_runs", pc.pendingRuns);
            m.put("last_update", pc.lastUpdate == 0 ? null : Instant.ofEpochMilli(pc.lastUpdate).toString());
            m.put("recent_documents", newestFirst(pc.recent));
            pairList.add(m);
        });
        body.put("pairs", pairList);

        body.put("recent_documents", newestFirst(recent));
        body.put("throughput", rates.snapshot());
        body.put("scope", "partitions hosted by this instance");
        body.put("instances_unreachable", List.of());
        return body;
    }

    /**
     * The dead letters counted by this instance's tasks of {@code dead-letters} ({@link DeadLetterCounts}), by
     * error type; one error type counted by several tasks is added up like the instances' parts are.
     */
    private Map<String, Map<String, Object>> deadLettersByErrorType() {
        Map<String, Map<String, Object>> byType = new TreeMap<>();
        ReadOnlyKeyValueStore<String, DeadLetterTallyRecord> store = store(DeadLetterCounts.STORE);
        if (store == null) {
            return byType;
        }
        try (KeyValueIterator<String, DeadLetterTallyRecord> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, DeadLetterTallyRecord> kv = it.next();
                OverviewMerge.addDeadLetters(byType, kv.key, DashboardViews.deadLetters(kv.value));
            }
        } catch (InvalidStateStoreException e) {
            // rebalancing: next poll
        }
        return byType;
    }

    private String stateName() {
        try {
            return streams.state().name();
        } catch (RuntimeException e) {
            return "UNKNOWN";
        }
    }

    private List<String> keys(String storeName) {
        ReadOnlyKeyValueStore<String, Object> store = store(storeName);
        List<String> out = new ArrayList<>();
        if (store == null) {
            return out;
        }
        try (KeyValueIterator<String, Object> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, Object> kv = it.next();
                if (kv.value instanceof AlignmentTallies a && a.byMethod().isEmpty()
                        || kv.value instanceof SpikinessTallies s && s.isEmpty()) {
                    continue;
                }
                out.add(kv.key);
            }
        } catch (InvalidStateStoreException e) {
            // rebalancing: next poll
        }
        return out;
    }

    private <V> ReadOnlyKeyValueStore<String, V> store(String name) {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(name,
                    QueryableStoreTypes.<String, V>keyValueStore()));
        } catch (InvalidStateStoreException | IllegalStateException e) {
            return null;
        }
    }
}
