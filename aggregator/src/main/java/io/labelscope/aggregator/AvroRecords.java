package io.labelscope.aggregator;

import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.metrics.SpikinessTally;
import io.labelscope.aggregator.state.DistributionView;
import io.labelscope.aggregator.state.MethodView;
import io.labelscope.math.Moments;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.Configuration;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.MethodResult;
import io.labelscope.schemas.SpikinessMetric;
import io.labelscope.schemas.Summary;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Our small value types to the public Avro records of the output topics. */
final class AvroRecords {

    private AvroRecords() {
    }

    static DocumentDistribution distribution(DistributionView v) {
        Map<String, MethodResult> methods = new LinkedHashMap<>();
        v.methods().forEach((name, m) -> methods.put(name, method(m)));
        return DocumentDistribution.newBuilder()
                .setDocumentId(v.documentId())
                .setTask(v.task() == null ? "" : v.task())
                .setModel(v.model())
                .setRunId(v.runId())
                .setLabels(new ArrayList<>(v.labels()))
                .setHuman(v.human() == null ? null : new LinkedHashMap<>(v.human()))
                .setAnnotators(v.annotators())
                .setMethods(methods)
                .setUpdatedAt(Instant.ofEpochMilli(v.updatedAt()))
                .setVersion(v.version())
                .setTaskVersion(v.taskVersion())
                .build();
    }

    private static MethodResult method(MethodView m) {
        return MethodResult.newBuilder()
                .setDistribution(new LinkedHashMap<>(m.distribution()))
                .setPredicted(new ArrayList<>(m.predicted()))
                .setNll(m.nll())
                .setL1(m.l1())
                .setExampleF1(m.exampleF1())
                .build();
    }

    /**
     * @param windowStart null for all-time
     */
    static AlignmentMetric alignment(String task, Configuration configuration, String method, AlignmentTally t,
                                     Long windowStart, Long windowEnd, long updatedAt) {
        return AlignmentMetric.newBuilder()
                .setTask(task)
                .setModel(configuration.model())
                .setTaskVersion(configuration.taskVersion())
                .setMethod(method)
                .setWindowStart(windowStart == null ? null : Instant.ofEpochMilli(windowStart))
                .setWindowEnd(windowEnd == null ? null : Instant.ofEpochMilli(windowEnd))
                .setDocuments(t.documents())
                .setMeanNll(mean(t.nll()))
                .setMeanL1(mean(t.l1()))
                .setMeanExampleF1(mean(t.exampleF1()))
                .setUpdatedAt(Instant.ofEpochMilli(updatedAt))
                .build();
    }

    static SpikinessMetric spikiness(String task, Configuration configuration, String cell, SpikinessTally t,
                                     Long windowStart, Long windowEnd, long updatedAt) {
        boolean answer = SpikinessTallies.ANSWER_CELL.equals(cell);
        String[] parts = cell.split("/");
        List<Long> histogram = new ArrayList<>();
        for (long c : t.top1Histogram()) {
            histogram.add(c);
        }
        return SpikinessMetric.newBuilder()
                .setTask(task)
                .setModel(configuration.model())
                .setTaskVersion(configuration.taskVersion())
                .setStepIndex(answer ? -1 : Integer.parseInt(parts[1]))
                .setPosition(answer ? SpikinessTallies.ANSWER_CELL : parts[0])
                .setWindowStart(windowStart == null ? null : Instant.ofEpochMilli(windowStart))
                .setWindowEnd(windowEnd == null ? null : Instant.ofEpochMilli(windowEnd))
                .setTop1(summary(t.top1()))
                .setTop2(summary(t.top2()))
                .setEntropyBits(summary(t.entropyBits()))
                .setTop1Histogram(histogram)
                .setSecondPredictedNextRate(rate(t.nextIsSecond(), t.rankings()))
                .setR1Pred(t.rankings() == 0 ? null : summary(t.r1Pred()))
                .setIntermediateAtR1(t.rankings() == 0 ? null : summary(t.intermediateAtR1()))
                .setNextTopProbAtR1(t.rankings() == 0 ? null : summary(t.nextTopAtR1()))
                .setSecondNeverPredictedRate(rate(t.neverPredicted(), t.secondNotNext()))
                .setAnswers(t.answers())
                .setMultilabelAnswerRate(rate(t.multilabel(), t.answers()))
                .setAlphabeticalOrderRate(rate(t.alphabetical(), t.twoPlus()))
                .setPromptOrderRate(rate(t.promptOrder(), t.twoPlus()))
                .setUpdatedAt(Instant.ofEpochMilli(updatedAt))
                .build();
    }

    static Summary summary(Moments m) {
        return Summary.newBuilder()
                .setN(m.count())
                .setMean(m.count() == 0 ? null : m.mean())
                .setStd(m.count() == 0 ? null : m.std())
                .build();
    }

    static Double mean(Moments m) {
        return m.count() == 0 ? null : m.mean();
    }

    static Double rate(long part, long whole) {
        return whole == 0 ? null : (double) part / whole;
    }
}
