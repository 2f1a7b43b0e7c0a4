package io.labelscope.aggregator;

import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.internals.CacheFlushListener;
import org.apache.kafka.streams.state.internals.CachedStateStore;

import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A key-value store that keeps the values its stream thread reads and writes as objects, and writes each changed
 * one to the store below (serde, record cache, changelog, RocksDB) once per commit instead of once per put.
 *
 * <p>Why: a document's records arrive close together (steps, generation, probes, annotations: five and more per
 * document), and each read its whole state from the store and wrote it back, i.e. decoded and re-encoded it
 * through Avro every time; that was about half of the stream thread's CPU (docs/benchmarks.md, issue #14). Kafka
 * Streams' own record cache saves the RocksDB and changelog writes but keeps values as bytes, so it cannot save
 * the serde.
 *
 * <p>Exactly-once: before every commit Kafka Streams asks each store to empty its cache into the changelog
 * ({@link CachedStateStore#flushCache()}, the same call that empties its record cache; {@code StateStore#flush()}
 * comes only after the transaction). This store writes its changed values to the store below there, so they are
 * in the changelog in the same transaction as the input offsets, exactly as when every put went through. When a
 * task is closed uncleanly, {@link #clearCache()} drops them with the record cache. {@code CachedStateStore} is not
 * public API: the version of Kafka Streams this is built with is checked by {@code WriteBehindStoreTest} and by the
 * crash test ({@code AggregatorCrashIT}).
 *
 * <p>Which thread sees what: only the thread that writes (the stream thread owning the task) reads through the
 * objects; any other thread (interactive queries of the REST API) reads the store below, i.e. the state as of the
 * last commit. A value read from this store must not be changed without being put back (it is the one copy).
 * Unchanged values are kept for later reads up to {@code maxValues}, least recently used dropped first.
 */
public final class WriteBehindStore<K, V> implements KeyValueStore<K, V>, CachedStateStore<K, V> {

    /** The default number of values kept as objects. */
    public static final int MAX_VALUES = 10_000;

    private final KeyValueStore<K, V> below;
    private final int maxValues;
    /** Access order: the least recently used first. Only the owner thread touches it. */
    private final LinkedHashMap<K, V> values = new LinkedHashMap<>(1024, 0.75f, true);
    private final Set<K> changed = new HashSet<>();
    private volatile Thread owner;

    WriteBehindStore(KeyValueStore<K, V> below, int maxValues) {
        this.below = below;
        this.maxValues = maxValues;
    }

    /** The store {@code builder} builds (its record cache, changelog and serdes), with this store in front. */
    public static <K, V> StoreBuilder<KeyValueStore<K, V>> inFrontOf(StoreBuilder<KeyValueStore<K, V>> builder) {
        return inFrontOf(builder, MAX_VALUES);
    }

    static <K, V> StoreBuilder<KeyValueStore<K, V>> inFrontOf(StoreBuilder<KeyValueStore<K, V>> builder,
                                                             int maxValues) {
        return new StoreBuilder<>() {
            @Override
            public StoreBuilder<KeyValueStore<K, V>> withCachingEnabled() {
                builder.withCachingEnabled();
                return this;
            }

            @Override
            public StoreBuilder<KeyValueStore<K, V>> withCachingDisabled() {
                builder.withCachingDisabled();
                return this;
            }

            @Override
            public StoreBuilder<KeyValueStore<K, V>> withLoggingEnabled(Map<String, String> config) {
                builder.withLoggingEnabled(config);
                return this;
            }

            @Override
            public StoreBuilder<KeyValueStore<K, V>> withLoggingDisabled() {
                builder.withLoggingDisabled();
                return this;
            }

            @Override
            public KeyValueStore<K, V> build() {
                return new WriteBehindStore<>(builder.build(), maxValues);
            }

            @Override
            public Map<String, String> logConfig() {
                return builder.logConfig();
            }

            @Override
            public boolean loggingEnabled() {
                return builder.loggingEnabled();
            }

            @Override
            public String name() {
                return builder.name();
            }
        };
    }

    private boolean owned() {
        return Thread.currentThread() == owner;
    }

    @Override
    public V get(K key) {
        if (!owned()) {
            return below.get(key);
        }
        V value = values.get(key);
        if (value == null && !changed.contains(key)) {
            value = below.get(key);
            if (value != null) {
                values.put(key, value);
                dropUnchanged();
            }
        }
        return value;
    }

    @Override
    public void put(K key, V value) {
        if (owner == null) {
            owner = Thread.currentThread(); // the stream thread: only it writes
        }
        if (!owned()) {
            below.put(key, value);
            return;
        }
        if (value == null) {
            delete(key);
            return;
        }
        values.put(key, value);
        changed.add(key);
        if (changed.size() > maxValues) {
            writeChanged(); // more changed values than kept: write them now, as without this store
        }
        dropUnchanged();
    }

    @Override
    public V putIfAbsent(K key, V value) {
        V current = get(key);
        if (current == null) {
            put(key, value);
        }
        return current;
    }

    @Override
    public void putAll(List<KeyValue<K, V>> entries) {
        entries.forEach(e -> put(e.key, e.value));
    }

    @Override
    public V delete(K key) {
        if (owned()) {
            values.remove(key);
            changed.remove(key);
        }
        return below.delete(key);
    }

    /** Writes every changed value to the store below (in the order they were last used). */
    private void writeChanged() {
        if (!owned() || changed.isEmpty()) {
            return;
        }
        for (Map.Entry<K, V> e : values.entrySet()) {
            if (changed.contains(e.getKey())) {
                below.put(e.getKey(), e.getValue());
            }
        }
        changed.clear();
        dropUnchanged();
    }

    private void dropUnchanged() {
        Iterator<Map.Entry<K, V>> eldest = values.entrySet().iterator();
        while (values.size() > maxValues && eldest.hasNext()) {
            if (!changed.contains(eldest.next().getKey())) {
                eldest.remove();
            }
        }
    }

    // Kafka Streams' commit: before it (flushCache) and after it (flush); an unclean close (clearCache).

    @Override
    public void flushCache() {
        writeChanged();
        if (below instanceof CachedStateStore<?, ?> cached) {
            cached.flushCache();
        }
    }

    @Override
    public void clearCache() {
        values.clear();
        changed.clear();
        if (below instanceof CachedStateStore<?, ?> cached) {
            cached.clearCache();
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public boolean setFlushListener(CacheFlushListener<K, V> listener, boolean sendOldValues) {
        return below instanceof CachedStateStore<?, ?> cached
                && ((CachedStateStore<K, V>) cached).setFlushListener(listener, sendOldValues);
    }

    @Override
    public void flush() {
        writeChanged();
        below.flush();
    }

    // Iteration reads the store below, so the owner writes its changes there first.

    @Override
    public KeyValueIterator<K, V> range(K from, K to) {
        writeChanged();
        return below.range(from, to);
    }

    @Override
    public KeyValueIterator<K, V> reverseRange(K from, K to) {
        writeChanged();
        return below.reverseRange(from, to);
    }

    @Override
    public KeyValueIterator<K, V> all() {
        writeChanged();
        return below.all();
    }

    @Override
    public KeyValueIterator<K, V> reverseAll() {
        writeChanged();
        return below.reverseAll();
    }

    @Override
    public <PS extends Serializer<P>, P> KeyValueIterator<K, V> prefixScan(P prefix, PS prefixKeySerializer) {
        writeChanged();
        return below.prefixScan(prefix, prefixKeySerializer);
    }

    @Override
    public long approximateNumEntries() {
        return below.approximateNumEntries();
    }

    // The rest is the store below's.

    @Override
    public String name() {
        return below.name();
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
        owner = null;
        values.clear();
        changed.clear();
        below.init(context, root);
    }

    @Override
    public void close() {
        values.clear();
        changed.clear();
        below.close();
    }

    @Override
    public boolean persistent() {
        return below.persistent();
    }

    @Override
    public boolean isOpen() {
        return below.isOpen();
    }

    @Override
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
        return below.query(query, positionBound, config);
    }

    @Override
    public Position getPosition() {
        return below.getPosition();
    }
}
