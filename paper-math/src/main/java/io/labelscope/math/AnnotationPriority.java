package io.labelscope.math;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Which document most needs one more human annotation (issue #18; docs/annotate-next.md is the user-facing
 * definition). Three strategies, all pure float64 functions of one document's max-over-generations distribution p
 * (SPEC §3, as published on {@code distributions}) and its annotators' votes:
 *
 * <ul>
 *   <li>{@link Strategy#FLIP} (the default): the expected number of label decisions that one more annotation
 *   changes. The model is a Beta prior of strength s on each label, so with k of n annotators voting yes the
 *   current estimate is the posterior mean {@code m = (s·p + k) / (s + n)} (with n = 0 the model alone) and the
 *   current decision is {@code m ≥ 0.5}. One more vote v ~ Bernoulli(m) moves the estimate to
 *   {@code m' = (s·p + k + v) / (s + n + 1)}; the priority is
 *   {@code Σ_l P(decision(m'_l) ≠ decision(m_l))}, which is m_l for a label decided "no" that a yes vote lifts
 *   to the threshold, 1 − m_l for a label decided "yes" that a no vote drops below it, else 0 (a yes vote
 *   never lowers m and a no vote never raises it, so only one of the two can flip a decision). Both decisions
 *   use SPEC §4's rule: a value within the tolerance (1e-9) below 0.5 counts as reaching it.</li>
 *   <li>{@link Strategy#UNCERTAINTY}: the model's uncertainty, {@code Σ_l H₂(p_l)} in bits, where
 *   {@code H₂(q) = −q log₂ q − (1−q) log₂(1−q)} and {@code H₂(0) = H₂(1) = 0}. It ignores the humans.</li>
 *   <li>{@link Strategy#DISAGREEMENT}: SPEC §4's L1 between the model and the current human distribution,
 *   {@code Σ_l |clip(p_l) − k_l/n|}; a document nobody has annotated yet gets the largest possible L1, |L|, so
 *   every document gets a first annotator before any gets a second.</li>
 * </ul>
 *
 * <p>An annotator who chose no label ({@code []}) counts in n ({@link HumanDistribution#votes}), exactly as in
 * the human distribution. A document that already has the maximum number of annotators (a setting, default 10)
 * has priority 0 under every strategy: it is not requested.
 *
 * <p>{@link #rank} orders documents for "annotate next": highest priority first, documents whose priorities are
 * within the tolerance of each other by ascending document id, only priorities above 0.
 */
public final class AnnotationPriority {

    /** The selectable strategies, with their wire names ({@code strategy=} in requests). */
    public enum Strategy {
        FLIP("flip"),
        UNCERTAINTY("uncertainty"),
        DISAGREEMENT("disagreement");

        private final String wireName;

        Strategy(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }

        /** The default strategy: expected decision flips. */
        public static Strategy defaultStrategy() {
            return FLIP;
        }

        public static Strategy fromWireName(String name) {
            if (name != null) {
                for (Strategy s : values()) {
                    if (s.wireName.equalsIgnoreCase(name.trim())) {
                        return s;
                    }
                }
            }
            throw new IllegalArgumentException("unknown annotation strategy '" + name
                    + "' (flip, uncertainty or disagreement)");
        }
    }

    /**
     * The settings the issue leaves to the user.
     *
     * @param priorStrength s: how many annotators the model's opinion is worth in the flip strategy's Beta prior;
     *                      must be positive (with s = 0 a document without annotators would have no estimate)
     * @param maxAnnotators a document with this many annotators or more is not requested (priority 0)
     */
    public record Settings(double priorStrength, int maxAnnotators) {

        public Settings {
            if (!(priorStrength > 0) || Double.isInfinite(priorStrength)) {
                throw new IllegalArgumentException("the prior strength s must be a positive finite number, was "
                        + priorStrength);
            }
            if (maxAnnotators < 1) {
                throw new IllegalArgumentException("the maximum annotator count must be at least 1, was "
                        + maxAnnotators);
            }
        }

        /** Issue #18's defaults: s = 2, at most 10 annotators. */
        public static Settings defaults() {
            return new Settings(2.0, 10);
        }

        public Settings withPriorStrength(double s) {
            return new Settings(s, maxAnnotators);
        }

        public Settings withMaxAnnotators(int max) {
            return new Settings(priorStrength, max);
        }
    }

    private AnnotationPriority() {
    }

    /**
     * One document's priority under a strategy.
     *
     * @param modelP     max-over-generations p over the task's labels (no {@code none}), each in [0, 1]
     * @param votes      per label, how many of the document's annotators chose it
     * @param annotators n, every annotator of the document (also those who chose no label)
     */
    public static double priority(Strategy strategy, double[] modelP, int[] votes, int annotators,
                                  Settings settings, Conventions conventions) {
        return switch (strategy) {
            case FLIP -> sum(flipProbabilities(modelP, votes, annotators, settings, conventions));
            case UNCERTAINTY -> uncertainty(modelP, votes, annotators, settings);
            case DISAGREEMENT -> disagreement(modelP, votes, annotators, settings, conventions);
        };
    }

    /**
     * Per label, the probability that one more annotation flips its decision (the flip strategy's terms; their
     * sum is the priority). All zeros for a document at the maximum annotator count.
     */
    public static double[] flipProbabilities(double[] modelP, int[] votes, int annotators, Settings settings,
                                             Conventions conventions) {
        check(modelP, votes, annotators);
        double[] flips = new double[modelP.length];
        if (annotators >= settings.maxAnnotators()) {
            return flips;
        }
        double s = settings.priorStrength();
        double threshold = conventions.modelThreshold();
        for (int i = 0; i < modelP.length; i++) {
            double m = posteriorMean(modelP[i], votes[i], annotators, s);
            boolean yes = conventions.reaches(m, threshold);
            if (yes) {
                double afterNo = (s * modelP[i] + votes[i]) / (s + annotators + 1);
                flips[i] = conventions.reaches(afterNo, threshold) ? 0 : 1 - m;
            } else {
                double afterYes = (s * modelP[i] + votes[i] + 1) / (s + annotators + 1);
                flips[i] = conventions.reaches(afterYes, threshold) ? m : 0;
            }
        }
        return flips;
    }

    /** The flip strategy's current estimate of one label: m = (s·p + k) / (s + n). */
    public static double posteriorMean(double p, int yesVotes, int annotators, double priorStrength) {
        return (priorStrength * p + yesVotes) / (priorStrength + annotators);
    }

    /** Σ_l H₂(p_l) in bits (0 at the maximum annotator count). */
    public static double uncertainty(double[] modelP, int[] votes, int annotators, Settings settings) {
        check(modelP, votes, annotators);
        if (annotators >= settings.maxAnnotators()) {
            return 0;
        }
        double bits = 0;
        for (double q : modelP) {
            bits += binaryEntropyBits(q);
        }
        return bits;
    }

    /** SPEC §4's L1 between p and the current human distribution; |L| without annotators, 0 at the maximum. */
    public static double disagreement(double[] modelP, int[] votes, int annotators, Settings settings,
                                      Conventions conventions) {
        check(modelP, votes, annotators);
        if (annotators >= settings.maxAnnotators()) {
            return 0;
        }
        if (annotators == 0) {
            return modelP.length;
        }
        double[] human = new double[votes.length];
        for (int i = 0; i < votes.length; i++) {
            human[i] = (double) votes[i] / annotators;
        }
        return Alignment.l1(modelP, human, conventions);
    }

    /**
     * The "annotate next" order: only items with priority above 0, highest priority first; items whose
     * priorities are within {@code tolerance} of each other are ordered by ascending document id.
     *
     * <p>"Within the tolerance" is not transitive (0, 0.8e-9 and 1.6e-9 are pairwise close, close, and not
     * close), so no order can honour it for every pair. The rule here takes its transitive closure: after sorting
     * by priority, neighbours at most {@code tolerance} apart belong to one run, runs go highest first, and inside
     * a run documents go by ascending id. Every pair within the tolerance is then ordered by id; only a chain
     * of near-equal priorities spanning more than the tolerance (which floating-point noise does not produce)
     * orders two more distant priorities by id too.
     *
     * @param limit the most items returned (the "n" of "top n")
     */
    public static <T> List<T> rank(Collection<T> items, Function<T, String> documentId,
                                   ToDoubleFunction<T> priority, int limit, double tolerance) {
        if (limit < 0) {
            throw new IllegalArgumentException("the number of documents asked for must not be negative, was "
                    + limit);
        }
        List<T> positive = new ArrayList<>();
        for (T item : items) {
            double p = priority.applyAsDouble(item);
            if (Double.isNaN(p)) {
                throw new IllegalArgumentException("priority of document '" + documentId.apply(item) + "' is NaN");
            }
            if (p > 0) {
                positive.add(item);
            }
        }
        positive.sort(Comparator.comparingDouble(priority).reversed().thenComparing(documentId));
        List<T> out = new ArrayList<>(Math.min(limit, positive.size()));
        int start = 0;
        while (start < positive.size() && out.size() < limit) {
            int end = start + 1;
            while (end < positive.size() && priority.applyAsDouble(positive.get(end - 1))
                    - priority.applyAsDouble(positive.get(end)) <= tolerance) {
                end++;
            }
            List<T> run = new ArrayList<>(positive.subList(start, end));
            run.sort(Comparator.comparing(documentId));
            for (T item : run) {
                if (out.size() == limit) {
                    break;
                }
                out.add(item);
            }
            start = end;
        }
        return out;
    }

    /** {@link #rank} with SPEC §4's tolerance from the conventions. */
    public static <T> List<T> rank(Collection<T> items, Function<T, String> documentId,
                                   ToDoubleFunction<T> priority, int limit, Conventions conventions) {
        return rank(items, documentId, priority, limit, conventions.thresholdTolerance());
    }

    static double binaryEntropyBits(double q) {
        if (q <= 0 || q >= 1) {
            return 0;
        }
        return -(q * Math.log(q) + (1 - q) * Math.log(1 - q)) / Math.log(2);
    }

    private static double sum(double[] values) {
        double total = 0;
        for (double v : values) {
            total += v;
        }
        return total;
    }

    private static void check(double[] modelP, int[] votes, int annotators) {
        if (modelP.length != votes.length) {
            throw new IllegalArgumentException("the model distribution has " + modelP.length
                    + " labels but the votes have " + votes.length);
        }
        if (annotators < 0) {
            throw new IllegalArgumentException("the annotator count must not be negative, was " + annotators);
        }
        for (int i = 0; i < modelP.length; i++) {
            if (!(modelP[i] >= 0 && modelP[i] <= 1)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "model probability of label %d must be in [0, 1], was %s", i, modelP[i]));
            }
            if (votes[i] < 0 || votes[i] > annotators) {
                throw new IllegalArgumentException("label " + i + " has " + votes[i] + " votes from "
                        + annotators + " annotators");
            }
        }
    }
}
