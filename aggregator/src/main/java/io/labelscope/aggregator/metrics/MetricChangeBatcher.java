package io.labelscope.aggregator.metrics;

import io.labelscope.aggregator.Keys;
import io.labelscope.aggregator.document.Assembled;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Metric-change batching for {@link DocumentAssembler}: changes are not forwarded one by one but summed per
 * task/model and time bucket in the state store {@link #PENDING_STORE}, and forwarded, one record per key, by a
 * wall-clock punctuation once per commit interval ({@link #flush}). Same sub-topology and processor context as
 * the assembler, so a change is written in the same transaction as the input offsets that caused it.
 */
public final class MetricChangeBatcher {

    /**
     * Metric changes summed per task/model and time bucket until the next flush. A state store with a
     * changelog, written in the same transaction as the input offsets, so a crash neither loses nor repeats a
     * change.
     */
    public static final String PENDING_STORE = "metric-changes-pending";

    /** Flush interval when the configuration names no commit interval (the exactly-once default). */
    public static final long DEFAULT_FLUSH_MS = 100;

    private final ProcessorContext<String, Assembled> context;
    private final KeyValueStore<String, Assembled.PendingChange> pending;
    private final long bucketMs;

    /**
     * Opens the pending store of {@code context} and schedules the flush once per commit interval.
     *
     * @param bucketMs the time bucket metric changes are summed in before they are sent (a divisor of every
     *                 window's size and advance, so a bucket lies in exactly the same windows as each of its
     *                 changes)
     */
    public MetricChangeBatcher(ProcessorContext<String, Assembled> context, long bucketMs) {
        this.context = context;
        this.pending = context.getStateStore(PENDING_STORE);
        this.bucketMs = bucketMs;
        context.schedule(Duration.ofMillis(flushIntervalMs(context.appConfigs())), PunctuationType.WALL_CLOCK_TIME,
                t -> flush());
    }

    /** The commit interval: metric changes are flushed once per commit, when they become visible anyway. */
    public static long flushIntervalMs(Map<String, Object> configs) {
        Object v = configs.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG);
        if (v == null) {
            return DEFAULT_FLUSH_MS;
        }
        long ms = v instanceof Number n ? n.longValue() : Long.parseLong(v.toString().trim());
        return Math.max(1, ms);
    }

    /** Adds a change of a task/model's metrics, stamped with its generation time, to its bucket's pending sum. */
    public void add(String taskModel, Assembled.PendingChange change) {
        String pendingKey = Math.floorDiv(change.time(), bucketMs) + Keys.SEPARATOR + taskModel;
        Assembled.PendingChange previous = pending.get(pendingKey);
        pending.put(pendingKey, previous == null ? change
                : new Assembled.PendingChange(Math.max(change.time(), previous.time()),
                        previous.change().plus(change.change())));
    }

    /**
     * Sends every pending metric change (one record per task/model and bucket, stamped with the latest
     * generation time among its changes) and removes it, oldest first, so the aggregates see changes in
     * generation-time order within one flush.
     */
    void flush() {
        List<KeyValue<String, Assembled.PendingChange>> all = new ArrayList<>();
        try (KeyValueIterator<String, Assembled.PendingChange> it = pending.all()) {
            it.forEachRemaining(all::add);
        }
        if (all.isEmpty()) {
            return;
        }
        all.sort(Comparator.<KeyValue<String, Assembled.PendingChange>>comparingLong(kv -> kv.value.time())
                .thenComparing(kv -> kv.key));
        for (KeyValue<String, Assembled.PendingChange> kv : all) {
            pending.delete(kv.key);
            String taskModel = kv.key.substring(kv.key.indexOf(Keys.SEPARATOR) + 1);
            context.forward(new Record<>(taskModel, kv.value.change(), kv.value.time()));
        }
    }
}
