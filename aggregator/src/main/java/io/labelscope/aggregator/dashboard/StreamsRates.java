package io.labelscope.aggregator.dashboard;

import io.labelscope.schemas.Topics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.streams.KafkaStreams;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Throughput and lag of this instance, read from Kafka Streams' own metrics ({@link KafkaStreams#metrics()}):
 * the main consumer's {@code records-consumed-total} per input topic and {@code records-lag} per partition,
 * the producer's {@code record-send-total} to the distributions topic, and the stream thread's
 * {@code process-rate}.
 *
 * <p>Kafka's own rates average over 30-second samples, too slow for a live view; so rates here are the change of
 * the totals over the last few seconds, sampled whenever the dashboard asks (every second or two).
 */
@ApplicationScoped
public class StreamsRates {

    /** Every input topic of the topology: its consumption rate and its lag (in {@code records_lag}) are shown. */
    static final List<String> INPUTS = List.of(Topics.LABEL_STEPS, Topics.GENERATIONS, Topics.UNARY_PROBES,
            Topics.BINARY_PROBES, Topics.ANNOTATIONS);
    /** Rates are taken over at most this much history, and at least {@link #MIN_SPAN_NANOS}. */
    static final long SPAN_NANOS = 5_000_000_000L;
    static final long MIN_SPAN_NANOS = 500_000_000L;

    @Inject
    KafkaStreams streams;

    private record Sample(long nanos, Map<String, Double> totals) {
    }

    private final Deque<Sample> samples = new ArrayDeque<>();

    /** Totals, rates per second (null until two samples are far enough apart) and lag, as JSON. */
    public synchronized Map<String, Object> snapshot() {
        Totals now = read();
        long t = System.nanoTime();
        samples.addLast(new Sample(t, now.totals));
        // Keep the newest sample older than the span as the base, drop anything older than it.
        while (samples.size() > 2) {
            var it = samples.iterator();
            it.next();
            Sample second = it.next();
            if (t - second.nanos >= SPAN_NANOS) {
                samples.removeFirst();
            } else {
                break;
            }
        }
        Sample base = samples.peekFirst();
        Map<String, Object> rates = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : now.totals.entrySet()) {
            Double before = base.totals.get(e.getKey());
            double dt = (t - base.nanos) / 1e9;
            if (before == null || t - base.nanos < MIN_SPAN_NANOS || e.getValue() < before) {
                rates.put(e.getKey(), null); // no history yet, or the client restarted and its totals reset
            } else {
                rates.put(e.getKey(), (e.getValue() - before) / dt);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("distributions_per_second", rates.get("sent." + Topics.DISTRIBUTIONS));
        m.put("step_events_per_second", rates.get("consumed." + Topics.LABEL_STEPS));
        m.put("generations_per_second", rates.get("consumed." + Topics.GENERATIONS));
        m.put("unary_probes_per_second", rates.get("consumed." + Topics.UNARY_PROBES));
        m.put("binary_probes_per_second", rates.get("consumed." + Topics.BINARY_PROBES));
        m.put("annotations_per_second", rates.get("consumed." + Topics.ANNOTATIONS));
        m.put("records_lag", now.lagKnown ? now.lag : null);
        m.put("records_lag_by_topic", now.lagByTopic);
        m.put("process_rate_kafka", now.processRate);
        m.put("totals", now.totals);
        return m;
    }

    /** The current value of one running total ("consumed.&lt;topic&gt;" or "sent.&lt;topic&gt;"), 0 before any. */
    public double total(String key) {
        return read().totals.getOrDefault(key, 0.0);
    }

    private static final class Totals {
        final Map<String, Double> totals = new LinkedHashMap<>();
        final Map<String, Double> lagByTopic = new LinkedHashMap<>();
        double lag;
        boolean lagKnown;
        Double processRate;
    }

    private Totals read() {
        Totals out = new Totals();
        for (String topic : INPUTS) {
            out.totals.put("consumed." + topic, 0.0);
        }
        out.totals.put("sent." + Topics.DISTRIBUTIONS, 0.0);
        out.totals.put("sent." + Topics.DEAD_LETTERS, 0.0);
        Map<MetricName, ? extends Metric> metrics;
        try {
            metrics = streams.metrics();
        } catch (RuntimeException e) {
            return out;
        }
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            MetricName n = e.getKey();
            Map<String, String> tags = n.tags();
            String client = tags.getOrDefault("client-id", "");
            if (client.endsWith("restore-consumer") || client.endsWith("global-consumer")) {
                continue;
            }
            double value = number(e.getValue());
            if (Double.isNaN(value) || Double.isInfinite(value)) {
                continue;
            }
            String topic = tags.get("topic");
            switch (n.group()) {
                case "consumer-fetch-manager-metrics" -> {
                    if (topic == null || !INPUTS.contains(topic)) {
                        break;
                    }
                    if (n.name().equals("records-consumed-total") && !tags.containsKey("partition")) {
                        out.totals.merge("consumed." + topic, value, Double::sum);
                    } else if (n.name().equals("records-lag") && tags.containsKey("partition")) {
                        out.lag += value;
                        out.lagKnown = true;
                        out.lagByTopic.merge(topic, value, Double::sum);
                    }
                }
                case "producer-topic-metrics" -> {
                    if (n.name().equals("record-send-total")
                            && (Topics.DISTRIBUTIONS.equals(topic) || Topics.DEAD_LETTERS.equals(topic))) {
                        out.totals.merge("sent." + topic, value, Double::sum);
                    }
                }
                case "stream-thread-metrics" -> {
                    if (n.name().equals("process-rate")) {
                        out.processRate = (out.processRate == null ? 0 : out.processRate) + value;
                    }
                }
                default -> {
                }
            }
        }
        return out;
    }

    private static double number(Metric m) {
        Object v = m.metricValue();
        return v instanceof Number num ? num.doubleValue() : Double.NaN;
    }
}
