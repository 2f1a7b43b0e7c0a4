package io.labelscope.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Bradley–Terry fit of the binary breakdown (SPEC §3: minimise Σ BCE(p, σ(s_a − s_b)) + 0.01·Σ s², exactly and
 * deterministically), checked without trusting the solver: the optimality condition by hand, the two-player case in
 * closed form, ties, and a dominant label.
 */
class BradleyTerryTest {

    private static final double LAMBDA = 0.01;

    /** ∇f by hand: 2λ s_i + Σ over i's comparisons of ±(σ(s_a − s_b) − p). */
    private static double[] gradient(double[] s, List<BradleyTerry.Comparison> cs) {
        double[] g = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            g[i] = 2 * LAMBDA * s[i];
        }
        for (BradleyTerry.Comparison c : cs) {
            double r = 1 / (1 + Math.exp(-(s[c.a()] - s[c.b()]))) - c.probabilityAWins();
            g[c.a()] += r;
            g[c.b()] -= r;
        }
        return g;
    }

    /** Every unordered pair of {@code n} items once, with random probabilities (or 0/1 outcomes). */
    private static List<BradleyTerry.Comparison> allPairs(int n, long seed, boolean outcomes) {
        Random r = new Random(seed);
        List<BradleyTerry.Comparison> cs = new ArrayList<>();
        for (int a = 0; a < n; a++) {
            for (int b = a + 1; b < n; b++) {
                double p = outcomes ? (r.nextBoolean() ? 1 : 0) : r.nextDouble();
                cs.add(r.nextBoolean() ? new BradleyTerry.Comparison(a, b, p) : new BradleyTerry.Comparison(b, a, 1 - p));
            }
        }
        return cs;
    }

    @Test
    void theFittedScoresSatisfyTheStationarityConditionTo1e10() {
        // 7 labels + none, as the GoEmotions task: 28 pairs; soft probabilities and hard outcomes, 20 seeds.
        for (long seed = 1; seed <= 20; seed++) {
            for (boolean outcomes : new boolean[] {false, true}) {
                List<BradleyTerry.Comparison> cs = allPairs(8, seed, outcomes);
                double[] s = BradleyTerry.fit(8, cs, LAMBDA, 1e-12);
                double[] g = gradient(s, cs);
                for (double gi : g) {
                    assertThat(Math.abs(gi)).as("seed %d outcomes %s", seed, outcomes).isLessThan(1e-10);
                }
                // The regulariser's gradient alone sums to 2λ Σ s and the pair terms cancel: Σ s = 0 at the optimum.
                assertThat(java.util.Arrays.stream(s).sum()).isCloseTo(0, within(1e-10));
                // Deterministic: the same input gives bit-identical scores.
                assertThat(BradleyTerry.fit(8, cs, LAMBDA, 1e-12)).isEqualTo(s);
            }
        }
    }

    @Test
    void twoPlayersMatchTheClosedForm() {
        // One comparison p between a and none. Σ s = 0 gives s = (t, −t) and stationarity σ(2t) − p + 2λt = 0, so
        // p = σ(2t) + 2λt for the chosen t; then p_a = σ(s_a − s_none) = σ(2t).
        for (double t : new double[] {-1.2, -0.3, 0.0, 0.5, 1.2}) {
            double p = 1 / (1 + Math.exp(-2 * t)) + 2 * LAMBDA * t;
            double[] s = BradleyTerry.fit(2, List.of(new BradleyTerry.Comparison(0, 1, p)), LAMBDA, 1e-12);
            assertThat(s).containsExactly(new double[] {t, -t}, within(1e-12));
            // Through the binary breakdown: logits whose gap has σ = p give p_a = σ(2t).
            double gap = Math.log(p / (1 - p));
            double[] dist = BinaryBreakdown.distribution(1, List.of(new BinaryBreakdown.PairLogits(0, 1, gap, 0)),
                    false, Conventions.paper());
            assertThat(dist[0]).isCloseTo(1 / (1 + Math.exp(-2 * t)), within(1e-10));
        }
    }

    @Test
    void tiesGiveEqualScores() {
        // Every comparison a coin flip: s = 0 exactly, every label at 0.5.
        List<BinaryBreakdown.PairLogits> coinFlips = new ArrayList<>();
        for (int a = 0; a < 4; a++) {
            for (int b = a + 1; b < 4; b++) {
                coinFlips.add(new BinaryBreakdown.PairLogits(a, b, 1.5, 1.5));
            }
        }
        assertThat(BinaryBreakdown.distribution(3, coinFlips, false, Conventions.paper()))
                .containsExactly(new double[] {0.5, 0.5, 0.5}, within(1e-15));
        // Two labels tied with each other and treated alike by none and by a third label get equal scores.
        List<BradleyTerry.Comparison> cs = List.of(new BradleyTerry.Comparison(0, 1, 0.5),
                new BradleyTerry.Comparison(0, 3, 0.8), new BradleyTerry.Comparison(1, 3, 0.8),
                new BradleyTerry.Comparison(2, 0, 0.3), new BradleyTerry.Comparison(2, 1, 0.3),
                new BradleyTerry.Comparison(2, 3, 0.6));
        double[] s = BradleyTerry.fit(4, cs, LAMBDA, 1e-12);
        assertThat(s[0]).isCloseTo(s[1], within(1e-12));
        assertThat(s[0]).isGreaterThan(s[3]);
    }

    @Test
    void aDominantLabelGetsAFiniteTopScoreAndTheRestStayAtOneHalf() {
        // Label 0 beats every other item (outcome 1), the others (labels 1, 2 and none = 3) tie among themselves.
        // Without the regulariser s_0 would go to infinity; with λ = 0.01 it is finite and the highest. The others
        // are interchangeable, so their scores are equal and their p = σ(s_l − s_none) = 0.5.
        List<BinaryBreakdown.PairLogits> pairs = List.of(new BinaryBreakdown.PairLogits(0, 1, 9, 0),
                new BinaryBreakdown.PairLogits(0, 2, 9, 0), new BinaryBreakdown.PairLogits(3, 0, 0, 9),
                new BinaryBreakdown.PairLogits(1, 2, 0, 0), new BinaryBreakdown.PairLogits(1, 3, 0, 0),
                new BinaryBreakdown.PairLogits(2, 3, 0, 0));
        double[] p = BinaryBreakdown.distribution(3, pairs, false, Conventions.paper());
        assertThat(p[0]).isGreaterThan(0.9).isLessThan(1.0);
        assertThat(p[1]).isCloseTo(0.5, within(1e-12));
        assertThat(p[2]).isCloseTo(0.5, within(1e-12));
        // As outcomes the ties round to a loss for the item shown first (round half to even), so none, shown last
        // in both of its tied pairs, wins them: label 0 still on top, labels 1 and 2 below none.
        double[] o = BinaryBreakdown.distribution(3, pairs, true, Conventions.paper());
        assertThat(o[0]).isGreaterThan(0.5);
        assertThat(o[1]).isLessThan(0.5);
        assertThat(o[2]).isLessThan(0.5);
        List<BradleyTerry.Comparison> wins = List.of(new BradleyTerry.Comparison(0, 1, 1),
                new BradleyTerry.Comparison(0, 2, 1), new BradleyTerry.Comparison(0, 3, 1),
                new BradleyTerry.Comparison(1, 2, 0.5), new BradleyTerry.Comparison(1, 3, 0.5),
                new BradleyTerry.Comparison(2, 3, 0.5));
        double[] s = BradleyTerry.fit(4, wins, LAMBDA, 1e-12);
        assertThat(Double.isFinite(s[0])).isTrue();
        assertThat(s[0]).isGreaterThan(s[1]);
        double[] g = gradient(s, wins);
        for (double gi : g) {
            assertThat(Math.abs(gi)).isLessThan(1e-10);
        }
    }
}
