package io.labelscope.aggregator.metrics;

import org.apache.kafka.streams.kstream.TimeWindows;

import java.time.Duration;
import java.util.Locale;

/**
 * One window of the windowed metrics, written {@code SIZE} (tumbling) or {@code SIZE/ADVANCE} (hopping) in ISO-8601
 * durations: {@code PT1M} = 1-minute tumbling, {@code PT15M/PT5M} = 15-minute windows every 5 minutes.
 *
 * <p>Windows are on generation time. A change whose generation time falls in a window that closed (window end
 * + grace before the stream time) is not applied to that window: closed windows are final, as shown; the
 * all-time metrics still take the change. Kafka Streams counts such records in its dropped-records metric.
 * Closed windows stay in the store (and the REST API) for {@code retention}.
 */
public record WindowSpec(Duration size, Duration advance, Duration grace, Duration retention) {

    /** A window kept queryable for a day after it closes. */
    public static WindowSpec parse(String text, Duration grace) {
        return parse(text, grace, Duration.ofDays(1));
    }

    /**
     * @param retention how long windows stay in the store (and queryable); at least size + grace
     */
    public static WindowSpec parse(String text, Duration grace, Duration retention) {
        String[] parts = text.trim().split("/");
        Duration size = Duration.parse(parts[0].trim());
        Duration advance = parts.length > 1 ? Duration.parse(parts[1].trim()) : size;
        if (advance.isZero() || advance.isNegative() || advance.compareTo(size) > 0) {
            throw new IllegalArgumentException("window " + text + ": advance must be in (0, size]");
        }
        Duration keep = retention.compareTo(size.plus(grace)) < 0 ? size.plus(grace) : retention;
        return new WindowSpec(size, advance, grace, keep);
    }

    public TimeWindows windows() {
        return TimeWindows.ofSizeAndGrace(size, grace).advanceBy(advance);
    }

    /** A store- and topic-safe name, e.g. {@code pt15m-pt5m}. */
    public String name() {
        String n = size.toString();
        if (!advance.equals(size)) {
            n += "-" + advance;
        }
        return n.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9.-]", "_");
    }

    public String label() {
        return advance.equals(size) ? size + " tumbling" : size + " hopping by " + advance;
    }
}
