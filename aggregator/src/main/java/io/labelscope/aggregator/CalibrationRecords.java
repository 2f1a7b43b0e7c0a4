package io.labelscope.aggregator;

import io.labelscope.aggregator.avro.CalibrationTalliesRecord;
import io.labelscope.aggregator.avro.ReliabilityDiagramRecord;
import io.labelscope.aggregator.metrics.CalibrationTallies;
import io.labelscope.math.ReliabilityDiagram;
import io.labelscope.schemas.CalibrationBin;
import io.labelscope.schemas.CalibrationMetric;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.kstream.Windowed;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The reliability-diagram sums ({@link CalibrationTallies}) as the internal Avro record the stores and the
 * repartition topic hold, and as the public {@code calibration-metrics} rows (docs/calibration.md §1): per
 * method one pooled row (label null) and one row per label, all-time (null window) or per window.
 */
public final class CalibrationRecords {

    /** Key part of a per-label row; the pooled row has none (labels may contain any character but this prefix). */
    private static final String LABEL_KEY = "label:";

    private CalibrationRecords() {
    }

    // ---- internal state ---------------------------------------------------------------------------------------

    static CalibrationTalliesRecord record(CalibrationTallies t) {
        Map<String, Map<String, ReliabilityDiagramRecord>> byMethod = new HashMap<>();
        t.byMethod().forEach((method, byLabel) -> {
            Map<String, ReliabilityDiagramRecord> labels = new HashMap<>();
            byLabel.forEach((label, d) -> labels.put(label, record(d)));
            byMethod.put(method, labels);
        });
        return new CalibrationTalliesRecord(byMethod);
    }

    static CalibrationTallies tallies(CalibrationTalliesRecord r) {
        SortedMap<String, SortedMap<String, ReliabilityDiagram>> byMethod = new TreeMap<>();
        r.getByMethod().forEach((method, byLabel) -> {
            SortedMap<String, ReliabilityDiagram> labels = new TreeMap<>();
            byLabel.forEach((label, d) -> labels.put(label.toString(), diagram(d)));
            byMethod.put(method.toString(), labels);
        });
        return new CalibrationTallies(byMethod);
    }

    private static ReliabilityDiagramRecord record(ReliabilityDiagram d) {
        List<Long> count = new ArrayList<>(ReliabilityDiagram.BIN_COUNT);
        List<Double> sumPredicted = new ArrayList<>(ReliabilityDiagram.BIN_COUNT);
        List<Double> sumHuman = new ArrayList<>(ReliabilityDiagram.BIN_COUNT);
        for (ReliabilityDiagram.Bin b : d.bins()) {
            count.add(b.count());
            sumPredicted.add(b.sumPredicted());
            sumHuman.add(b.sumHuman());
        }
        return new ReliabilityDiagramRecord(count, sumPredicted, sumHuman);
    }

    private static ReliabilityDiagram diagram(ReliabilityDiagramRecord r) {
        List<ReliabilityDiagram.Bin> bins = new ArrayList<>(ReliabilityDiagram.BIN_COUNT);
        for (int b = 0; b < r.getCount().size(); b++) {
            bins.add(new ReliabilityDiagram.Bin(r.getCount().get(b), r.getSumPredicted().get(b),
                    r.getSumHuman().get(b)));
        }
        return new ReliabilityDiagram(bins);
    }

    // ---- the calibration-metrics topic ------------------------------------------------------------------------

    static List<KeyValue<String, CalibrationMetric>> allTime(String taskModel, CalibrationTallies sum) {
        return rows(taskModel, sum, null, null);
    }

    static List<KeyValue<String, CalibrationMetric>> windowed(Windowed<String> key, CalibrationTallies sum) {
        return rows(key.key(), sum, key.window().start(), key.window().end());
    }

    /** Keys {@code task|model|method[|label:L][|start-end]}, so the compacted topic keeps each row's latest. */
    private static List<KeyValue<String, CalibrationMetric>> rows(String taskModel, CalibrationTallies sum,
                                                                  Long start, Long end) {
        String[] tm = MetricRecords.split(taskModel);
        long now = System.currentTimeMillis();
        String window = start == null ? "" : Keys.SEPARATOR + start + "-" + end;
        List<KeyValue<String, CalibrationMetric>> out = new ArrayList<>();
        sum.byMethod().forEach((method, byLabel) -> {
            String key = taskModel + Keys.SEPARATOR + method;
            out.add(KeyValue.pair(key + window, row(tm[0], tm[1], method, null,
                    CalibrationTallies.pooled(byLabel), start, end, now)));
            byLabel.forEach((label, d) -> out.add(KeyValue.pair(key + Keys.SEPARATOR + LABEL_KEY + label + window,
                    row(tm[0], tm[1], method, label, d, start, end, now))));
        });
        return out;
    }

    /**
     * One row: N, soft ECE and the 10 bins of a diagram (means null in an empty bin).
     *
     * @param label null for the pooled row
     * @param start null for all-time
     */
    public static CalibrationMetric row(String task, String model, String method, String label,
                                        ReliabilityDiagram d, Long start, Long end, long updatedAt) {
        List<CalibrationBin> bins = new ArrayList<>(ReliabilityDiagram.BIN_COUNT);
        for (ReliabilityDiagram.Bin b : d.bins()) {
            bins.add(new CalibrationBin(b.count(), b.meanPredicted(), b.meanHuman()));
        }
        return CalibrationMetric.newBuilder()
                .setTask(task)
                .setModel(model)
                .setMethod(method)
                .setLabel(label)
                .setWindowStart(start == null ? null : Instant.ofEpochMilli(start))
                .setWindowEnd(end == null ? null : Instant.ofEpochMilli(end))
                .setPairs(d.pairs())
                .setEce(d.ece())
                .setBins(bins)
                .setUpdatedAt(Instant.ofEpochMilli(updatedAt))
                .build();
    }
}
