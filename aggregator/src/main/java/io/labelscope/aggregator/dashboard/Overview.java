package io.labelscope.aggregator.dashboard;

import io.labelscope.aggregator.Keys;
import io.labelscope.aggregator.TopologyProducer;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.state.DistributionView;
import io.labelscope.aggregator.state.DocumentState;
import io.labelscope.aggregator.state.RunState;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * The dashboard's header and lists, from this instance's stores and Kafka Streams metrics. Computed at most
 * every {@link #MAX_AGE_MILLIS} however many pages poll, because it walks the documents store.
 *
 * <p>Counts cover the partitions this instance hosts (the whole picture with one instance, the default).
 */
@ApplicationScoped
public class Overview {

    static final long MAX_AGE_MILLIS = 500;
    static final int RECENT = 15;

    @Inject
    KafkaStreams streams;

    @Inject
    StreamsRates rates;

    private Map<String, Object> cached;
    private long cachedAt;

    public synchronized Map<String, Object> current() {
        long now = System.currentTimeMillis();
        if (cached == null || now - cachedAt >= MAX_AGE_MILLIS) {
            cached = compute();
            cachedAt = now;
        }
        return cached;
    }

    private static final class PairCounts {
        long documents;
        long aligned;
        long pendingRuns;
        long lastUpdate;
    }

    private Map<String, Object> compute() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("generated_at", Instant.now().toString());
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
        PriorityQueue<DistributionView> recent = new PriorityQueue<>(
                Comparator.comparingLong(DistributionView::updatedAt).thenComparing(DistributionView::documentId));
        ReadOnlyKeyValueStore<String, DocumentState> docs = store(TopologyProducer.DOCUMENTS_STORE);
        if (docs != null) {
            try (KeyValueIterator<String, DocumentState> it = docs.all()) {
                while (it.hasNext()) {
                    DocumentState state = it.next().value;
                    documents++;
                    boolean hasDistribution = false;
                    boolean isAligned = false;
                    for (RunState run : state.runs.values()) {
                        PairCounts pc = pairs.computeIfAbsent(Keys.taskModel(state.task, run.model),
                                k -> new PairCounts());
                        if (run.emitted == null) {
                            pending++;
                            pc.pendingRuns++;
                            continue;
                        }
                        DistributionView d = run.emitted.distribution();
                        hasDistribution = true;
                        pc.documents++;
                        pc.lastUpdate = Math.max(pc.lastUpdate, d.updatedAt());
                        if (d.annotators() > 0) {
                            isAligned = true;
                            pc.aligned++;
                        }
                        recent.add(d);
                        if (recent.size() > RECENT) {
                            recent.poll();
                        }
                    }
                    if (hasDistribution) {
                        withDistribution++;
                    }
                    if (isAligned) {
                        aligned++;
                    }
                    if (state.runs.isEmpty() && !state.annotations.isEmpty()) {
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
        body.put("counts", counts);

        List<Map<String, Object>> pairList = new ArrayList<>();
        pairs.forEach((key, pc) -> {
            int sep = key.indexOf(Keys.SEPARATOR);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("task", sep < 0 ? key : key.substring(0, sep));
            m.put("model", sep < 0 ? "" : key.substring(sep + Keys.SEPARATOR.length()));
            m.put("documents", pc.documents);
            m.put("documents_aligned", pc.aligned);
            m.put("pending_runs", pc.pendingRuns);
            m.put("last_update", pc.lastUpdate == 0 ? null : Instant.ofEpochMilli(pc.lastUpdate).toString());
            pairList.add(m);
        });
        body.put("pairs", pairList);

        List<DistributionView> newestFirst = new ArrayList<>(recent);
        newestFirst.sort(Comparator.comparingLong(DistributionView::updatedAt).reversed()
                .thenComparing(DistributionView::documentId));
        body.put("recent_documents", newestFirst.stream().map(DashboardViews::recent).toList());
        body.put("throughput", rates.snapshot());
        body.put("scope", "partitions hosted by this instance");
        return body;
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
