package io.labelscope.aggregator.calibration;

import io.labelscope.aggregator.Keys;
import io.labelscope.math.Calibration;
import io.labelscope.math.Conventions;
import io.labelscope.math.DocumentAnalysis;
import io.labelscope.math.PlattScaling;
import io.labelscope.schemas.Calibrator;
import io.labelscope.schemas.Topics;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

import java.util.Map;
import java.util.TreeMap;

/**
 * The calibrated method in the stream (docs/calibration.md §3): each task/model's calibration evidence is summed
 * where its metrics live (after the {@code metrics-by-task-model} repartition; store {@link #EVIDENCE_STORE}),
 * refitted on every change and published to the compacted {@link Topics#CALIBRATIONS} topic, which every instance
 * reads back as a global table ({@link #STORE}): every document partition, on whatever instance, sees every
 * task/model's current calibrator. The document assembler freezes the one current when a run completes
 * ({@link #current}), so a run is never calibrated by a map fitted on itself.
 */
public final class Calibrations {

    /** The global store of the {@code calibrations} topic: task/model → current calibrator. */
    public static final String STORE = "calibrations-global";
    /** The summed evidence per task/model (all time). */
    public static final String EVIDENCE_STORE = "calibration-evidence";

    private Calibrations() {
    }

    /**
     * The sub-topology: evidence changes (key = task/model) summed, refitted and written to {@code calibrations};
     * the topic read back as the global table {@link #STORE}.
     */
    public static void addTo(StreamsBuilder builder, KStream<String, Calibration.Evidence> changes,
                             Serde<String> keySerde, Serde<Calibration.Evidence> evidenceSerde,
                             Serde<Calibrator> calibratorSerde, Calibration.Settings settings) {
        changes.groupByKey(Grouped.with(keySerde, evidenceSerde))
                .aggregate(() -> Calibration.Evidence.EMPTY, (key, change, sum) -> sum.plus(change),
                        Materialized.<String, Calibration.Evidence, KeyValueStore<Bytes, byte[]>>as(EVIDENCE_STORE)
                                .withKeySerde(keySerde).withValueSerde(evidenceSerde))
                .toStream(Named.as("calibration-evidence-changes"))
                .mapValues((key, evidence) -> published(key, fit(evidence, settings)), Named.as("fit-calibrators"))
                .to(Topics.CALIBRATIONS, Produced.with(keySerde, calibratorSerde));
        builder.globalTable(Topics.CALIBRATIONS, Consumed.with(keySerde, calibratorSerde),
                Materialized.<String, Calibrator, KeyValueStore<Bytes, byte[]>>as(STORE)
                        .withKeySerde(keySerde).withValueSerde(calibratorSerde));
    }

    /**
     * The calibrator of a task/model's evidence. The evidence is kept per label; with one shared map its labels'
     * fit bins are pooled (the same bins, so the sum is the statistics of all pairs together).
     */
    static Calibration.Calibrator fit(Calibration.Evidence evidence, Calibration.Settings settings) {
        if (!settings.sharedAcrossLabels()) {
            return evidence.fit(settings);
        }
        PlattScaling.Statistics pooled = PlattScaling.Statistics.EMPTY;
        for (PlattScaling.Statistics s : evidence.byLabel().values()) {
            pooled = pooled.plus(s);
        }
        return new Calibration.Evidence(evidence.documents(), new TreeMap<>(Map.of(Calibration.ALL_LABELS, pooled)))
                .fit(settings);
    }

    private static Calibrator published(String taskModel, Calibration.Calibrator c) {
        int cut = taskModel.indexOf(Keys.SEPARATOR);
        return CalibrationRecords.published(taskModel.substring(0, cut), taskModel.substring(cut + 1), c);
    }

    /**
     * The calibrator current for a task/model on this instance (the latest the global table has read); the
     * identity with no documents when none was published yet.
     *
     * @param store the global store {@link #STORE} as a processor sees it
     */
    public static Calibration.Calibrator current(KeyValueStore<String, ValueAndTimestamp<Calibrator>> store,
                                                 String task, String model) {
        ValueAndTimestamp<Calibrator> v = store.get(Keys.taskModel(task, model));
        return v == null || v.value() == null ? Calibration.Calibrator.identity(0)
                : CalibrationRecords.published(v.value());
    }

    /**
     * The run's calibrated method: its frozen calibrator (the identity with no documents for a run scored
     * without one, e.g. outside the topology) applied to max-over-generations, scored like every method.
     */
    public static DocumentAnalysis.MethodResult calibrated(DocumentAnalysis.Report report,
                                                           Calibration.Calibrator frozen, Conventions conventions) {
        return Calibration.calibrated(report, frozen == null ? Calibration.Calibrator.identity(0) : frozen,
                conventions);
    }
}
