package io.labelscope.aggregator.metrics;

import io.labelscope.aggregator.Keys;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.Configuration;
import io.labelscope.schemas.SpikinessMetric;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;

import java.util.ArrayList;
import java.util.List;

/**
 * A task/model's summed metrics to the records of the metrics topics: one record per method (alignment) or per
 * cell (spikiness). Keys: {@code task|model|method} all-time, {@code task|model|method|start-end} per window,
 * so a compacted topic keeps the latest value of each; the model part is the configuration ({@code MODEL} or
 * {@code MODEL@VERSION}, {@link Configuration}), whose model and task version the records carry apart.
 */
public final class MetricRecords {

    private MetricRecords() {
    }

    public static List<KeyValue<String, AlignmentMetric>> allTimeAlignment(String taskModel, AlignmentTallies sum) {
        return alignment(taskModel, sum, null, null);
    }

    public static List<KeyValue<String, AlignmentMetric>> windowedAlignment(Windowed<String> key, AlignmentTallies sum) {
        return alignment(key.key(), sum, key.window().start(), key.window().end());
    }

    public static List<KeyValue<String, SpikinessMetric>> allTimeSpikiness(String taskModel, SpikinessTallies sum) {
        return spikiness(taskModel, sum, null, null);
    }

    public static List<KeyValue<String, SpikinessMetric>> windowedSpikiness(Windowed<String> key, SpikinessTallies sum) {
        return spikiness(key.key(), sum, key.window().start(), key.window().end());
    }

    private static List<KeyValue<String, AlignmentMetric>> alignment(String taskModel, AlignmentTallies sum,
                                                                      Long start, Long end) {
        String[] tm = split(taskModel);
        long now = System.currentTimeMillis();
        List<KeyValue<String, AlignmentMetric>> out = new ArrayList<>();
        sum.byMethod().forEach((method, tally) -> out.add(KeyValue.pair(
                key(taskModel, method, start, end),
                AvroRecords.alignment(tm[0], Configuration.parse(tm[1]), method, tally, start, end, now))));
        return out;
    }

    private static List<KeyValue<String, SpikinessMetric>> spikiness(String taskModel, SpikinessTallies sum,
                                                                      Long start, Long end) {
        String[] tm = split(taskModel);
        long now = System.currentTimeMillis();
        List<KeyValue<String, SpikinessMetric>> out = new ArrayList<>();
        sum.byCell().forEach((cell, tally) -> out.add(KeyValue.pair(
                key(taskModel, cell, start, end),
                AvroRecords.spikiness(tm[0], Configuration.parse(tm[1]), cell, tally, start, end, now))));
        return out;
    }

    private static String key(String taskModel, String part, Long start, Long end) {
        return taskModel + Keys.SEPARATOR + part + (start == null ? "" : Keys.SEPARATOR + start + "-" + end);
    }

    public static String[] split(String taskModel) {
        int i = taskModel.indexOf(Keys.SEPARATOR);
        return i < 0 ? new String[] {taskModel, ""} : new String[] {taskModel.substring(0, i),
                taskModel.substring(i + 1)};
    }
}
