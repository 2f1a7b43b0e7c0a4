package io.labelscope.aggregator;

import io.labelscope.aggregator.avro.AlignmentTalliesRecord;
import io.labelscope.aggregator.avro.AlignmentTallyRecord;
import io.labelscope.aggregator.avro.MetricsChangeRecord;
import io.labelscope.aggregator.avro.MomentsRecord;
import io.labelscope.aggregator.avro.PendingChangeRecord;
import io.labelscope.aggregator.avro.SpikinessTalliesRecord;
import io.labelscope.aggregator.avro.SpikinessTallyRecord;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.metrics.SpikinessTally;
import io.labelscope.math.Moments;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The metric sums (the aggregates, the changes on the {@code metrics-by-task-model} repartition topic and the
 * pending changes of the assembler) as the Avro records of {@code src/main/avro} that {@link InternalAvroSerde}
 * writes, and back. Field by field, by name: what each field means is said in the metrics classes.
 */
final class MetricStateRecords {

    private MetricStateRecords() {
    }

    static PendingChangeRecord pending(Assembled.PendingChange p) {
        return new PendingChangeRecord(p.time(), change(p.change()));
    }

    static Assembled.PendingChange pending(PendingChangeRecord r) {
        return new Assembled.PendingChange(r.getTime(), change(r.getChange()));
    }

    static MetricsChangeRecord change(Assembled.MetricsChange c) {
        return new MetricsChangeRecord(c.alignment() == null ? null : alignment(c.alignment()),
                c.spikiness() == null ? null : spikiness(c.spikiness()),
                c.calibration() == null ? null : CalibrationRecords.record(c.calibration()));
    }

    static Assembled.MetricsChange change(MetricsChangeRecord r) {
        return new Assembled.MetricsChange(r.getAlignment() == null ? null : alignment(r.getAlignment()),
                r.getSpikiness() == null ? null : spikiness(r.getSpikiness()),
                r.getCalibration() == null ? null : CalibrationRecords.tallies(r.getCalibration()));
    }

    static AlignmentTalliesRecord alignment(AlignmentTallies t) {
        Map<String, AlignmentTallyRecord> byMethod = new HashMap<>();
        t.byMethod().forEach((method, m) -> byMethod.put(method,
                new AlignmentTallyRecord(moments(m.nll()), moments(m.l1()), moments(m.exampleF1()))));
        return new AlignmentTalliesRecord(byMethod);
    }

    static AlignmentTallies alignment(AlignmentTalliesRecord r) {
        Map<String, AlignmentTally> byMethod = new TreeMap<>();
        r.getByMethod().forEach((method, m) -> byMethod.put(method,
                new AlignmentTally(moments(m.getNll()), moments(m.getL1()), moments(m.getExampleF1()))));
        return new AlignmentTallies(byMethod);
    }

    static SpikinessTalliesRecord spikiness(SpikinessTallies t) {
        Map<String, SpikinessTallyRecord> byCell = new HashMap<>();
        t.byCell().forEach((cell, c) -> {
            List<Long> histogram = new ArrayList<>(c.top1Histogram().length);
            for (long count : c.top1Histogram()) {
                histogram.add(count);
            }
            byCell.put(cell, SpikinessTallyRecord.newBuilder()
                    .setTop1(moments(c.top1())).setTop2(moments(c.top2())).setEntropyBits(moments(c.entropyBits()))
                    .setTop1Histogram(histogram)
                    .setR1Pred(moments(c.r1Pred())).setIntermediateAtR1(moments(c.intermediateAtR1()))
                    .setNextTopAtR1(moments(c.nextTopAtR1()))
                    .setRankings(c.rankings()).setNextIsSecond(c.nextIsSecond())
                    .setSecondNotNext(c.secondNotNext()).setNeverPredicted(c.neverPredicted())
                    .setAnswers(c.answers()).setMultilabel(c.multilabel()).setTwoPlus(c.twoPlus())
                    .setAlphabetical(c.alphabetical()).setPromptOrder(c.promptOrder())
                    .build());
        });
        return new SpikinessTalliesRecord(byCell);
    }

    static SpikinessTallies spikiness(SpikinessTalliesRecord r) {
        Map<String, SpikinessTally> byCell = new TreeMap<>();
        r.getByCell().forEach((cell, c) -> {
            long[] histogram = new long[c.getTop1Histogram().size()];
            for (int i = 0; i < histogram.length; i++) {
                histogram[i] = c.getTop1Histogram().get(i);
            }
            byCell.put(cell, new SpikinessTally(moments(c.getTop1()), moments(c.getTop2()),
                    moments(c.getEntropyBits()), histogram, moments(c.getR1Pred()),
                    moments(c.getIntermediateAtR1()), moments(c.getNextTopAtR1()), c.getRankings(),
                    c.getNextIsSecond(), c.getSecondNotNext(), c.getNeverPredicted(), c.getAnswers(),
                    c.getMultilabel(), c.getTwoPlus(), c.getAlphabetical(), c.getPromptOrder()));
        });
        return new SpikinessTallies(byCell);
    }

    private static MomentsRecord moments(Moments m) {
        return new MomentsRecord(m.count(), m.sum(), m.sumOfSquares());
    }

    private static Moments moments(MomentsRecord r) {
        return new Moments(r.getCount(), r.getSum(), r.getSumOfSquares());
    }
}
