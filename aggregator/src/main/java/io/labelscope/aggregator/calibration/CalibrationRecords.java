package io.labelscope.aggregator.calibration;

import io.labelscope.aggregator.avro.CalibrationEvidenceRecord;
import io.labelscope.aggregator.avro.CalibratorStateRecord;
import io.labelscope.aggregator.avro.FitBinRecord;
import io.labelscope.aggregator.avro.PlattMapRecord;
import io.labelscope.math.Calibration;
import io.labelscope.math.PlattScaling;
import io.labelscope.schemas.Calibrator;
import io.labelscope.schemas.PlattParameters;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * paper-math's calibration evidence and calibrators as the aggregator's internal Avro records (repartition topic,
 * evidence store, frozen calibrator in a run's state) and as the public {@link Calibrator} record, and back.
 */
public final class CalibrationRecords {

    private CalibrationRecords() {
    }

    /** Evidence with only its occupied fit bins (a bin whose count and sums are all zero says nothing). */
    public static CalibrationEvidenceRecord evidence(Calibration.Evidence e) {
        Map<String, List<FitBinRecord>> byLabel = new HashMap<>();
        e.byLabel().forEach((label, stats) -> {
            long[] n = stats.counts();
            double[] sx = stats.sumLogit();
            double[] sh = stats.sumHuman();
            List<FitBinRecord> bins = new ArrayList<>();
            for (int k = 0; k < n.length; k++) {
                if (n[k] != 0 || sx[k] != 0 || sh[k] != 0) {
                    bins.add(new FitBinRecord(k, n[k], sx[k], sh[k]));
                }
            }
            byLabel.put(label, bins);
        });
        return new CalibrationEvidenceRecord(e.documents(), byLabel);
    }

    public static Calibration.Evidence evidence(CalibrationEvidenceRecord r) {
        SortedMap<String, PlattScaling.Statistics> byLabel = new TreeMap<>();
        r.getByLabel().forEach((label, bins) -> {
            long[] n = new long[PlattScaling.FIT_BINS];
            double[] sx = new double[PlattScaling.FIT_BINS];
            double[] sh = new double[PlattScaling.FIT_BINS];
            for (FitBinRecord b : bins) {
                n[b.getBin()] = b.getCount();
                sx[b.getBin()] = b.getSumLogit();
                sh[b.getBin()] = b.getSumHuman();
            }
            byLabel.put(label, new PlattScaling.Statistics(n, sx, sh));
        });
        return new Calibration.Evidence(r.getDocuments(), byLabel);
    }

    public static CalibratorStateRecord state(Calibration.Calibrator c) {
        Map<String, PlattMapRecord> maps = new HashMap<>();
        c.maps().forEach((label, m) -> maps.put(label, new PlattMapRecord(m.a(), m.b())));
        return new CalibratorStateRecord(c.identity(), c.fittedOnDocuments(), maps);
    }

    public static Calibration.Calibrator state(CalibratorStateRecord r) {
        SortedMap<String, PlattScaling.PlattMap> maps = new TreeMap<>();
        r.getMaps().forEach((label, m) -> maps.put(label, new PlattScaling.PlattMap(m.getA(), m.getB())));
        return new Calibration.Calibrator(r.getIdentity(), r.getFittedOnDocuments(), maps);
    }

    /** The public record of a task/model's calibrator. */
    public static Calibrator published(String task, String model, Calibration.Calibrator c) {
        Map<String, PlattParameters> maps = new HashMap<>();
        c.maps().forEach((label, m) -> maps.put(label, new PlattParameters(m.a(), m.b())));
        return Calibrator.newBuilder().setTask(task).setModel(model).setIdentity(c.identity())
                .setFittedOnDocuments(c.fittedOnDocuments()).setMaps(maps).build();
    }

    public static Calibration.Calibrator published(Calibrator r) {
        SortedMap<String, PlattScaling.PlattMap> maps = new TreeMap<>();
        r.getMaps().forEach((label, m) -> maps.put(label, new PlattScaling.PlattMap(m.getA(), m.getB())));
        return new Calibration.Calibrator(r.getIdentity(), r.getFittedOnDocuments(), maps);
    }
}
