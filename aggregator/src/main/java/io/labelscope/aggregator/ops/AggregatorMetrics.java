package io.labelscope.aggregator.ops;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.jboss.logging.Logger;

import io.labelscope.aggregator.Keys;
import io.labelscope.aggregator.TopologyProducer;
import io.labelscope.aggregator.dashboard.StreamsRates;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.math.Moments;
import io.labelscope.schemas.Topics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

/**
 * The aggregator's Prometheus meters (the Grafana dashboard in deploy/ reads them): distributions and dead letters
 * published, from Kafka Streams' own producer totals, and the all-time alignment means per task, model and method
 * that this instance hosts, refreshed from the alignment store every few seconds.
 */
@ApplicationScoped
public class AggregatorMetrics {

    private static final Logger LOG = Logger.getLogger(AggregatorMetrics.class);
    private static final long REFRESH_SECONDS = 5;

    @Inject
    MeterRegistry registry;

    @Inject
    KafkaStreams streams;

    @Inject
    StreamsRates rates;

    /** task|model|method|metric → latest mean; a gauge per key reads it. */
    private final Map<String, Double> means = new ConcurrentHashMap<>();
    private final Set<String> registered = ConcurrentHashMap.newKeySet();
    private ScheduledExecutorService refresher;

    void start(@Observes StartupEvent event) {
        FunctionCounter.builder("labelscope.aggregator.distributions", rates,
                r -> r.total("sent." + Topics.DISTRIBUTIONS))
                .description("document distributions published").register(registry);
        FunctionCounter.builder("labelscope.aggregator.dead.letters", rates,
                r -> r.total("sent." + Topics.DEAD_LETTERS))
                .description("input records rejected to the dead-letter topic").register(registry);
        refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "labelscope-aggregator-metrics");
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(this::refresh, REFRESH_SECONDS, REFRESH_SECONDS, TimeUnit.SECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (refresher != null) {
            refresher.shutdownNow();
        }
    }

    void refresh() {
        if (streams.state() != KafkaStreams.State.RUNNING) {
            return;
        }
        try {
            ReadOnlyKeyValueStore<String, AlignmentTallies> store = streams.store(StoreQueryParameters
                    .fromNameAndType(TopologyProducer.ALIGNMENT_STORE, QueryableStoreTypes.keyValueStore()));
            try (KeyValueIterator<String, AlignmentTallies> all = store.all()) {
                while (all.hasNext()) {
                    var entry = all.next();
                    String[] taskModel = entry.key.split(java.util.regex.Pattern.quote(Keys.SEPARATOR), 2);
                    if (taskModel.length == 2) {
                        entry.value.byMethod().forEach((method, tally) -> publish(taskModel[0], taskModel[1], method,
                                tally));
                    }
                }
            }
        } catch (RuntimeException e) {
            // A rebalance moves stores away for a moment; the next refresh tries again.
            LOG.debugf("alignment gauges not refreshed: %s", e.getMessage());
        }
    }

    private void publish(String task, String model, String method, AlignmentTally tally) {
        set(task, model, method, "nll", tally.nll());
        set(task, model, method, "l1", tally.l1());
        set(task, model, method, "example_f1", tally.exampleF1());
    }

    private void set(String task, String model, String method, String metric, Moments moments) {
        String key = String.join("|", task, model, method, metric);
        means.put(key, moments.count() == 0 ? Double.NaN : moments.mean());
        if (registered.add(key)) {
            Gauge.builder("labelscope.aggregator.alignment", means, m -> m.getOrDefault(key, Double.NaN))
                    .description("all-time mean alignment of a method with the human distribution")
                    .tags("task", task, "model", model, "method", method, "metric", metric)
                    .register(registry);
        }
    }
}
