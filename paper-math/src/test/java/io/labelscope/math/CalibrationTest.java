package io.labelscope.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * docs/calibration.md by hand: the reliability bins and soft ECE on a small set, the Platt fit against its
 * stationarity condition and a closed-form optimum, and the prequential rule.
 */
class CalibrationTest {

    private static final Conventions PAPER = Conventions.paper();

    // ---- reliability diagram and ECE ------------------------------------------------------------------------

    @Test
    void eceOfASmallSetByHand() {
        // doc 1: p = (0, 0.1, 1.0) vs H = (0, 0.5, 1); doc 2: p = (0.35, 0.95, 0.999) vs H = (1, 0.5, 0.5).
        // bins: b0 {(0,0)}, b1 {(0.1,0.5)}, b3 {(0.35,1)}, b9 {(1,1), (0.95,0.5), (0.999,0.5)}
        // ECE = 1/6·(0 + 0.4 + 0.65) + 3/6·|2.949/3 − 2/3| = (1.05 + 0.949)/6 = 1.999/6
        ReliabilityDiagram d = ReliabilityDiagram.ofDocument(new double[] {0, 0.1, 1.0}, new double[] {0, 0.5, 1})
                .plus(ReliabilityDiagram.ofDocument(new double[] {0.35, 0.95, 0.999}, new double[] {1, 0.5, 0.5}));
        assertThat(d.pairs()).isEqualTo(6);
        assertThat(d.ece()).isCloseTo(1.999 / 6, within(1e-15));
        assertThat(d.bins().get(9).count()).isEqualTo(3);
        assertThat(d.bins().get(9).meanPredicted()).isCloseTo(2.949 / 3, within(1e-15));
        assertThat(d.bins().get(9).meanHuman()).isCloseTo(2.0 / 3, within(1e-15));
        assertThat(d.bins().get(1).count()).as("10·0.1 is exactly 1.0 in float64").isEqualTo(1);
        assertThat(d.bins().get(2).meanPredicted()).as("an empty bin has null means").isNull();
        assertThat(d.bins().get(2).meanHuman()).isNull();
    }

    @Test
    void binEdgesFollowFloat64WithoutTolerance() {
        assertThat(ReliabilityDiagram.bin(1.0)).as("the last bin is closed").isEqualTo(9);
        assertThat(ReliabilityDiagram.bin(0.0)).isZero();
        assertThat(ReliabilityDiagram.bin(0.7)).as("10·0.7 = 7.000000000000001").isEqualTo(7);
        assertThat(ReliabilityDiagram.bin(Math.nextDown(0.7))).as("10·0.6999… = 6.999999999999999").isEqualTo(6);
        assertThat(ReliabilityDiagram.bin(0.1 + 0.2)).isEqualTo(3);
        assertThatThrownBy(() -> ReliabilityDiagram.bin(Double.NaN)).hasMessageContaining("[0,1]");
        assertThatThrownBy(() -> ReliabilityDiagram.bin(1.0000001)).hasMessageContaining("1.0000001");
    }

    @Test
    void removingADocumentsOldPairsRestoresTheDiagram() {
        ReliabilityDiagram a = ReliabilityDiagram.ofDocument(new double[] {0.2, 0.8}, new double[] {0, 1});
        ReliabilityDiagram before = ReliabilityDiagram.ofDocument(new double[] {0.25, 0.5}, new double[] {1, 0});
        ReliabilityDiagram after = ReliabilityDiagram.ofDocument(new double[] {0.25, 0.5}, new double[] {0.5, 0.5});
        ReliabilityDiagram live = a.plus(before).minus(before).plus(after);
        assertThat(live).isEqualTo(a.plus(after));
        assertThat(ReliabilityDiagram.EMPTY.ece()).isNull();
        assertThat(ReliabilityDiagram.ofLabel(new double[] {0.2, 0.8}, new double[] {0, 1}, 1).pairs()).isEqualTo(1);
    }

    // ---- Platt fit ------------------------------------------------------------------------------------------

    /** A (p, H) pair as the test writes it. */
    private record Pair(double p, double h) {
    }

    private static PlattScaling.Statistics stats(List<Pair> pairs) {
        PlattScaling.Statistics s = PlattScaling.Statistics.EMPTY;
        for (Pair q : pairs) {
            s = s.plus(PlattScaling.Statistics.ofPair(q.p(), q.h(), PAPER.nllClip()));
        }
        return s;
    }

    /** ∇f by hand over the raw pairs: (1/N) Σ (σ(a x + b) − H)·(x, 1) + 2λ (a − 1, b). */
    private static double[] gradient(List<Pair> pairs, double a, double b, double lambda) {
        double ga = 0;
        double gb = 0;
        for (Pair q : pairs) {
            double x = Math.log(q.p()) - Math.log(1 - q.p());
            double r = 1 / (1 + Math.exp(-(a * x + b))) - q.h();
            ga += r * x;
            gb += r;
        }
        return new double[] {ga / pairs.size() + 2 * lambda * (a - 1), gb / pairs.size() + 2 * lambda * b};
    }

    /** Pairs at a few well separated predictions (one fit bin each, so the bins lose nothing). */
    private static List<Pair> separatedPairs(long seed) {
        Random r = new Random(seed);
        double[] ps = {0.02, 0.1, 0.3, 0.55, 0.8, 0.97};
        List<Pair> out = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            double p = ps[r.nextInt(ps.length)];
            // soft targets: shares of 3 annotators, more often 1 where p is high (but not calibrated)
            int votes = 0;
            for (int k = 0; k < 3; k++) {
                votes += r.nextDouble() < 0.2 + 0.5 * p ? 1 : 0;
            }
            out.add(new Pair(p, votes / 3.0));
        }
        return out;
    }

    @Test
    void theFittedMapSatisfiesTheStationarityConditionTo1e10() {
        for (long seed = 1; seed <= 5; seed++) {
            List<Pair> pairs = separatedPairs(seed);
            PlattScaling.PlattMap m = PlattScaling.fit(stats(pairs), 1e-3, 1e-12);
            double[] g = gradient(pairs, m.a(), m.b(), 1e-3);
            assertThat(Math.abs(g[0])).as("∂f/∂a, seed %d", seed).isLessThan(1e-10);
            assertThat(Math.abs(g[1])).as("∂f/∂b, seed %d", seed).isLessThan(1e-10);
            assertThat(m.a()).as("the data are under-confident: the map steepens").isNotCloseTo(1, within(0.01));
            assertThat(PlattScaling.fit(stats(pairs), 1e-3, 1e-12)).as("deterministic").isEqualTo(m);
        }
    }

    @Test
    void twoPredictionValuesMatchTheClosedForm() {
        // With only two distinct predictions x1, x2 and mean targets h1, h2, the unpenalised optimum passes
        // through both: σ(a x1 + b) = h1, σ(a x2 + b) = h2. λ = 1e-14 moves it by ~1e-13.
        double p1 = 0.2;
        double p2 = 0.9;
        List<Pair> pairs = List.of(new Pair(p1, 0), new Pair(p1, 0.5), new Pair(p1, 0), new Pair(p1, 0.5),
                new Pair(p2, 1), new Pair(p2, 2.0 / 3), new Pair(p2, 1));
        double x1 = Math.log(p1 / (1 - p1));
        double x2 = Math.log(p2 / (1 - p2));
        double h1 = 0.25;
        double h2 = (2 + 2.0 / 3) / 3;
        double a = (Math.log(h1 / (1 - h1)) - Math.log(h2 / (1 - h2))) / (x1 - x2);
        double b = Math.log(h1 / (1 - h1)) - a * x1;
        PlattScaling.PlattMap m = PlattScaling.fit(stats(pairs), 1e-14, 1e-13);
        assertThat(m.a()).isCloseTo(a, within(1e-9));
        assertThat(m.b()).isCloseTo(b, within(1e-9));
        assertThat(m.apply(p1, PAPER.nllClip())).isCloseTo(h1, within(1e-9));
    }

    @Test
    void separableTargetsStillGiveAFiniteMapAndNoDataGivesTheIdentity() {
        List<Pair> pairs = List.of(new Pair(0.3, 0), new Pair(0.4, 0), new Pair(0.7, 1), new Pair(0.9, 1));
        PlattScaling.PlattMap m = PlattScaling.fit(stats(pairs), 1e-3, 1e-12);
        assertThat(Double.isFinite(m.a()) && Double.isFinite(m.b())).isTrue();
        double[] g = gradient(pairs, m.a(), m.b(), 1e-3);
        assertThat(Math.max(Math.abs(g[0]), Math.abs(g[1]))).isLessThan(1e-10);
        assertThat(PlattScaling.fit(PlattScaling.Statistics.EMPTY, 1e-3, 1e-12))
                .isEqualTo(PlattScaling.PlattMap.IDENTITY_PARAMETERS);
        assertThatThrownBy(() -> PlattScaling.fit(stats(pairs), 0, 1e-12)).hasMessageContaining("positive");
    }

    @Test
    void extremePredictionsStayInsideTheFitBins() {
        // max-over-generations' floor (1e-8) and an exact 1: logit of the clipped values, ±18.42
        List<Pair> pairs = List.of(new Pair(1e-8, 0), new Pair(0, 0), new Pair(1.0, 1), new Pair(1.0, 0.5),
                new Pair(0.5, 0.5));
        PlattScaling.PlattMap m = PlattScaling.fit(stats(pairs), 1e-3, 1e-12);
        assertThat(m.apply(1.0, PAPER.nllClip())).isBetween(0.5, 1.0);
        assertThat(m.apply(0.0, PAPER.nllClip())).isBetween(0.0, 0.5);
    }

    // ---- prequential rule -----------------------------------------------------------------------------------

    private static final List<String> LABELS = List.of("joy", "fear");

    private static DocumentAnalysis.Report doc(String id, double joyLogit, List<List<String>> annotators) {
        DocumentAnalysis.StepInput step = new DocumentAnalysis.StepInput(new double[] {joyLogit, 0, 1}, "joy");
        return DocumentAnalysis.analyse(new DocumentAnalysis.DocumentInput(id, LABELS, List.of(step),
                List.of("joy"), annotators, null, null, null), PAPER);
    }

    private static List<DocumentAnalysis.Report> stream(List<List<String>> thirdDocsAnnotators) {
        return List.of(
                doc("d1", 2, List.of(List.of("joy"), List.of())),
                doc("d2", 1, List.of(List.of("fear"))),
                doc("d3", 3, thirdDocsAnnotators),
                doc("d4", 0.5, List.of()), // not annotated: calibrated, but adds nothing
                doc("d5", 2.5, List.of(List.of("joy", "fear"))),
                doc("d6", -1, List.of(List.of())));
    }

    @Test
    void aDocumentIsCalibratedOnlyWithDocumentsAnnotatedBeforeIt() {
        Calibration.Settings settings = Calibration.Settings.defaults().withMinimumDocuments(2);
        List<DocumentAnalysis.Report> docs = stream(List.of(List.of("joy")));
        List<Calibration.Calibrator> used = Calibration.prequential(docs, settings, PAPER);

        assertThat(used).extracting(Calibration.Calibrator::identity)
                .containsExactly(true, true, false, false, false, false);
        assertThat(used).extracting(Calibration.Calibrator::fittedOnDocuments).containsExactly(0L, 1L, 2L, 3L, 3L, 4L);
        for (int i = 0; i < docs.size(); i++) {
            Calibration.Calibrator expected = Calibration.evidence(docs.subList(0, i), settings, PAPER).fit(settings);
            assertThat(used.get(i)).as("document %d", i + 1).isEqualTo(expected);
        }
        // The identity below the minimum returns max-over-generations unchanged.
        assertThat(Calibration.calibrated(docs.get(0), used.get(0), PAPER).distribution())
                .isEqualTo(docs.get(0).methods().get(Method.MAX_OVER_GENERATIONS).distribution());
    }

    @Test
    void aDocumentsOwnAnnotationsNeverReachItsCalibrator() {
        Calibration.Settings settings = Calibration.Settings.defaults().withMinimumDocuments(1);
        List<Calibration.Calibrator> a = Calibration.prequential(stream(List.of(List.of("joy"))), settings, PAPER);
        List<Calibration.Calibrator> b = Calibration.prequential(stream(List.of(List.of("fear"), List.of())),
                settings, PAPER);
        assertThat(b.subList(0, 3)).as("d3 and the documents before it do not see d3's annotations")
                .isEqualTo(a.subList(0, 3));
        assertThat(b.get(3)).as("the next document does").isNotEqualTo(a.get(3));
    }

    @Test
    void evidenceIsReplacedExactlyAndTheSharedMapPoolsTheLabels() {
        Calibration.Settings perLabel = Calibration.Settings.defaults().withMinimumDocuments(1);
        List<DocumentAnalysis.Report> docs = stream(List.of(List.of("joy")));
        Calibration.Evidence all = Calibration.evidence(docs, perLabel, PAPER);
        Calibration.Evidence d3 = Calibration.evidenceOf(docs.get(2), perLabel, PAPER);
        Calibration.Evidence without = all.minus(d3);
        assertThat(without.documents()).isEqualTo(all.documents() - 1);
        assertThat(without.plus(d3).fit(perLabel)).isEqualTo(all.fit(perLabel));
        assertThat(all.fit(perLabel).maps()).containsOnlyKeys("fear", "joy");

        Calibration.Settings shared = perLabel.withSharedAcrossLabels(true);
        Calibration.Calibrator pooled = Calibration.evidence(docs, shared, PAPER).fit(shared);
        assertThat(pooled.maps()).containsOnlyKeys(Calibration.ALL_LABELS);
        assertThat(pooled.mapOf("joy")).isEqualTo(pooled.mapOf("fear"));
        assertThat(Calibration.evidence(docs, shared, PAPER).byLabel().get(Calibration.ALL_LABELS).pairs())
                .isEqualTo(2L * 5);
    }
}
