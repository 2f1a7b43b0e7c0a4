package io.labelscope.aggregator.calibration;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.state.DistributionView;
import io.labelscope.aggregator.state.Emitted;
import io.labelscope.aggregator.state.MethodView;
import io.labelscope.math.Calibration;
import io.labelscope.math.PlattScaling;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A run's change to its task/model's calibration evidence, and the evidence's record, without Kafka Streams. */
class CalibrationEvidenceTest {

    private static final List<String> LABELS = List.of("joy", "fear");
    private static final double CLIP = 1e-8;

    private static Emitted emitted(Map<String, Double> human, boolean withCalibrated) {
        Map<String, Double> p = new LinkedHashMap<>();
        p.put("joy", 0.8);
        p.put("fear", 0.05);
        Map<String, MethodView> methods = new LinkedHashMap<>();
        methods.put("max_over_generations", new MethodView(p, List.of("joy"), null, null, null));
        if (withCalibrated) {
            methods.put("calibrated_max_over_generations", new MethodView(p, List.of("joy"), null, null, null));
        }
        return new Emitted(1L, new DistributionView("d1", "t", "m", "r", LABELS, human, human == null ? 0 : 1,
                methods, 2L, 1), AlignmentTallies.empty(), SpikinessTallies.empty());
    }

    private static Calibration.Evidence of(double hJoy, double hFear) {
        return Calibration.Evidence.ofDocument(LABELS, new double[] {0.8, 0.05}, new double[] {hJoy, hFear}, false,
                CLIP);
    }

    private static void assertSame(Calibration.Evidence actual, Calibration.Evidence expected) {
        assertThat(actual.documents()).isEqualTo(expected.documents());
        assertThat(actual.byLabel().keySet()).isEqualTo(expected.byLabel().keySet());
        expected.byLabel().forEach((label, s) -> {
            PlattScaling.Statistics a = actual.byLabel().get(label);
            assertThat(a.counts()).as(label).containsExactly(s.counts());
            assertThat(a.sumLogit()).as(label).containsExactly(s.sumLogit());
            assertThat(a.sumHuman()).as(label).containsExactly(s.sumHuman());
        });
    }

    @Test
    void anUnannotatedRunHasNoEvidenceAndItsFirstAnnotationAddsOneDocument() {
        assertThat(CalibrationEvidence.change(null, emitted(null, true), CLIP)).isNull();
        Calibration.Evidence first = CalibrationEvidence.change(emitted(null, true),
                emitted(Map.of("joy", 1.0, "fear", 0.0), true), CLIP);
        assertSame(first, of(1, 0));
    }

    @Test
    void aChangedAnnotationSubtractsTheOldPairsAndAddsTheNew() {
        Calibration.Evidence change = CalibrationEvidence.change(emitted(Map.of("joy", 1.0, "fear", 0.0), true),
                emitted(Map.of("joy", 0.5, "fear", 0.5), true), CLIP);
        assertThat(change.documents()).isZero();
        // Summed onto the old evidence, the change leaves exactly the new one.
        Calibration.Evidence total = of(1, 0).plus(change);
        assertThat(total.documents()).isEqualTo(1);
        assertThat(total.byLabel().get("fear").sumHuman()).containsExactly(of(0.5, 0.5).byLabel().get("fear")
                .sumHuman());
        assertThat(CalibrationEvidence.change(emitted(Map.of("joy", 1.0, "fear", 0.0), true),
                emitted(Map.of("joy", 1.0, "fear", 0.0), true), CLIP)).as("same p and H").isNull();
    }

    @Test
    void anEmissionOfAVersionBeforeTheCalibratedMethodSentNoEvidenceAndLosesNone() {
        Calibration.Evidence change = CalibrationEvidence.change(emitted(Map.of("joy", 1.0, "fear", 0.0), false),
                emitted(Map.of("joy", 1.0, "fear", 1.0), true), CLIP);
        assertSame(change, of(1, 1));
    }

    @Test
    void evidenceRoundTripsThroughItsRecordWithOnlyOccupiedBins() {
        Calibration.Evidence e = of(1, 0).plus(of(0.5, 1)).minus(of(1, 0));
        var record = CalibrationRecords.evidence(e);
        assertThat(record.getByLabel().get("joy")).hasSize(1);
        assertSame(CalibrationRecords.evidence(record), e);
    }
}
