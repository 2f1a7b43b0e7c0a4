package io.labelscope.math;

/**
 * Every constant the paper's methods and metrics depend on, with the defaults of SPEC §3–§5.
 *
 * <p>One record instead of scattered literals because the offline eval prints the settings it used, and the
 * numbers only compare between runs that share them.
 *
 * @param mode                 paper conventions, or the authors' code quirks ({@link Mode#CODE})
 * @param epsHard              hard predictions give 1−ε to a predicted label and ε otherwise
 * @param epsMaxFloor          floor of max-over-generations (a label never seen still gets a finite NLL)
 * @param nllClip              every p is clipped to [c, 1−c] before NLL and L1
 * @param modelThreshold       a label is predicted when p reaches this
 * @param humanThreshold       a label is gold when H_l reaches this
 * @param thresholdTolerance   a value this close below a threshold counts as reaching it (exact ties occur)
 * @param emptyF1              example-F1 when both the gold and the predicted set are empty
 * @param btLambda             L2 weight of the Bradley–Terry fit
 * @param btGradientTolerance  Newton stops once the largest gradient entry is below this
 */
public record Conventions(
        Mode mode,
        double epsHard,
        double epsMaxFloor,
        double nllClip,
        double modelThreshold,
        double humanThreshold,
        double thresholdTolerance,
        double emptyF1,
        double btLambda,
        double btGradientTolerance) {

    /** Which reading of the paper to follow where the paper and the authors' code differ (SPEC §2, §3, §5). */
    public enum Mode {
        PAPER("paper"),
        CODE("code");

        private final String wireName;

        Mode(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }

        public static Mode fromWireName(String name) {
            for (Mode m : values()) {
                if (m.wireName.equalsIgnoreCase(name.trim())) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown compat mode '" + name + "' (paper or code)");
        }
    }

    public Conventions {
        if (mode == null) {
            throw new IllegalArgumentException("mode is required");
        }
        requireOpenUnit("epsHard", epsHard);
        requireOpenUnit("epsMaxFloor", epsMaxFloor);
        requireOpenUnit("nllClip", nllClip);
        if (nllClip >= 0.5) {
            throw new IllegalArgumentException("nllClip must be below 0.5, was " + nllClip);
        }
        if (thresholdTolerance < 0 || btLambda < 0 || btGradientTolerance <= 0) {
            throw new IllegalArgumentException("tolerances and lambda must be non-negative");
        }
    }

    private static void requireOpenUnit(String name, double v) {
        if (!(v > 0 && v < 1)) {
            throw new IllegalArgumentException(name + " must be in (0,1), was " + v);
        }
    }

    /** SPEC defaults: paper conventions. */
    public static Conventions paper() {
        return new Conventions(Mode.PAPER, 1e-8, 1e-8, 1e-8, 0.5, 0.5, 1e-9, 1.0, 0.01, 1e-12);
    }

    /** SPEC defaults with the authors' code quirks ({@code compat=code}). */
    public static Conventions code() {
        return paper().withMode(Mode.CODE);
    }

    public boolean codeCompat() {
        return mode == Mode.CODE;
    }

    public Conventions withMode(Mode m) {
        return new Conventions(m, epsHard, epsMaxFloor, nllClip, modelThreshold, humanThreshold,
                thresholdTolerance, emptyF1, btLambda, btGradientTolerance);
    }

    public Conventions withEpsHard(double v) {
        return new Conventions(mode, v, epsMaxFloor, nllClip, modelThreshold, humanThreshold,
                thresholdTolerance, emptyF1, btLambda, btGradientTolerance);
    }

    public Conventions withEpsMaxFloor(double v) {
        return new Conventions(mode, epsHard, v, nllClip, modelThreshold, humanThreshold,
                thresholdTolerance, emptyF1, btLambda, btGradientTolerance);
    }

    public Conventions withNllClip(double v) {
        return new Conventions(mode, epsHard, epsMaxFloor, v, modelThreshold, humanThreshold,
                thresholdTolerance, emptyF1, btLambda, btGradientTolerance);
    }

    public Conventions withModelThreshold(double v) {
        return new Conventions(mode, epsHard, epsMaxFloor, nllClip, v, humanThreshold,
                thresholdTolerance, emptyF1, btLambda, btGradientTolerance);
    }

    public Conventions withHumanThreshold(double v) {
        return new Conventions(mode, epsHard, epsMaxFloor, nllClip, modelThreshold, v,
                thresholdTolerance, emptyF1, btLambda, btGradientTolerance);
    }

    public Conventions withThresholdTolerance(double v) {
        return new Conventions(mode, epsHard, epsMaxFloor, nllClip, modelThreshold, humanThreshold,
                v, emptyF1, btLambda, btGradientTolerance);
    }

    public Conventions withEmptyF1(double v) {
        return new Conventions(mode, epsHard, epsMaxFloor, nllClip, modelThreshold, humanThreshold,
                thresholdTolerance, v, btLambda, btGradientTolerance);
    }

    public Conventions withBtLambda(double v) {
        return new Conventions(mode, epsHard, epsMaxFloor, nllClip, modelThreshold, humanThreshold,
                thresholdTolerance, emptyF1, v, btGradientTolerance);
    }

    /** True when {@code value} reaches {@code threshold}, counting values within the tolerance below it. */
    public boolean reaches(double value, double threshold) {
        return value >= threshold - thresholdTolerance;
    }
}
