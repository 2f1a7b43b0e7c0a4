package io.labelscope.aggregator.metrics;

import io.labelscope.aggregator.document.NamedDoubles;

import io.labelscope.aggregator.avro.DistributionStateRecord;
import io.labelscope.aggregator.avro.MethodStateRecord;
import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.metrics.SpikinessTally;
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
public final class AvroRecords {

    private AvroRecords() {
    }

    public static DocumentDistribution distribution(DistributionStateRecord d) {
        List<String> labels = d.getLabels();
        Map<String, MethodResult> methods = new LinkedHashMap<>();
        for (MethodStateRecord m : d.getMethods()) {
            methods.put(m.getName(), method(m, labels));
        }
        return DocumentDistribution.newBuilder()
                .setDocumentId(d.getDocumentId())
                .setTask(d.getTask() == null ? "" : d.getTask())
                .setModel(d.getModel())
                .setRunId(d.getRunId())
                .setLabels(new ArrayList<>(labels))
                .setHuman(NamedDoubles.map(d.getHuman(), labels))
                .setAnnotators(d.getAnnotators())
                .setMethods(methods)
                .setUpdatedAt(Instant.ofEpochMilli(d.getUpdatedAt()))
                .setVersion(d.getVersion())
                .setTaskVersion(d.getTaskVersion())
                .build();
    }

    private static MethodResult method(MethodStateRecord m, List<String> labels) {
        return MethodResult.newBuilder()
                .setDistribution(NamedDoubles.map(m.getDistribution(), labels))
                .setPredicted(new ArrayList<>(m.getPredicted()))
                .setNll(m.getNll())
                .setL1(m.getL1())
                .setExampleF1(m.getExampleF1())
                .build();
    }

    /**
     * @param windowStart null for all-time
     */
    public static AlignmentMetric alignment(String task, Configuration configuration, String method, AlignmentTally t,
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

    public static SpikinessMetric spikiness(String task, Configuration configuration, String cell, SpikinessTally t,
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

    public static Summary summary(Moments m) {
        return Summary.newBuilder()
                .setN(m.count())
                .setMean(m.count() == 0 ? null : m.mean())
                .setStd(m.count() == 0 ? null : m.std())
                .build();
    }

    public static Double mean(Moments m) {
        return m.count() == 0 ? null : m.mean();
    }

    public static Double rate(long part, long whole) {
        return whole == 0 ? null : (double) part / whole;
    }
}
