package io.labelscope.math;

/** The distribution methods of SPEC §3, with the names used on the wire and in the eval output. */
public enum Method {
    MAX_OVER_GENERATIONS("max_over_generations"),
    COMPARE_TO_NONE("compare_to_none"),
    HARD_PREDICTIONS("hard_predictions"),
    FIRST_STEP("first_step"),
    UNARY_BREAKDOWN("unary_breakdown"),
    BINARY_BREAKDOWN("binary_breakdown"),
    BINARY_OUTCOME("binary_outcome"),
    /**
     * Max-over-generations through prequentially fitted Platt maps ({@link Calibration}); not computed by
     * {@link DocumentAnalysis#analyse}, because it needs the other documents' annotations.
     */
    CALIBRATED_MAX_OVER_GENERATIONS("calibrated_max_over_generations");

    private final String wireName;

    Method(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }

    public static Method fromWireName(String name) {
        for (Method m : values()) {
            if (m.wireName.equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method " + name);
    }
}
