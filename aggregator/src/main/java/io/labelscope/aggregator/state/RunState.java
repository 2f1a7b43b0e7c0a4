package io.labelscope.aggregator.state;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The records of one (model, run) of a document, collected until every method of the run has arrived.
 *
 * <p>Which methods to wait for travels with the run's generation and probe records ({@code methods}); the latest
 * such record's set counts. Label steps do not carry it, and cannot complete a run on their own anyway.
 */
public final class RunState {

    public static final String GENERATE = "generate";
    public static final String UNARY = "unary";
    public static final String BINARY = "binary";
    /** The method names a run may list. */
    public static final List<String> METHODS = List.of(GENERATE, UNARY, BINARY);

    public String model;
    public String runId;
    /** The run's method set; null until a generation or probe record has told us. */
    public List<String> methods;
    /** Steps by 0-based index; a re-sent step (same run and index) replaces the earlier one. */
    public Map<Integer, StepEntry> steps = new TreeMap<>();
    public GenerationEntry generation;
    public UnaryEntry unary;
    public BinaryEntry binary;
    public Emitted emitted;
    /**
     * The calibrator of {@code calibrated_max_over_generations}, frozen when the run completed so that its
     * re-emissions (annotation changes) use the same one; null until then.
     */
    public io.labelscope.math.Calibration.Calibrator calibrator;

    public RunState() {
    }

    public RunState(String model, String runId) {
        this.model = model;
        this.runId = runId;
    }

    /**
     * Whether the run uses a method. A generation from before runs carried their method set (state written by an
     * earlier version) means a generate-only run.
     */
    public boolean has(String method) {
        if (methods == null) {
            return generation != null && GENERATE.equals(method);
        }
        return methods.contains(method);
    }

    /** Complete once every method of the run has arrived, in whatever order. */
    public boolean complete() {
        if (methods == null && generation == null) {
            return false;
        }
        return (!has(GENERATE) || generateComplete()) && (!has(UNARY) || unary != null)
                && (!has(BINARY) || binary != null);
    }

    /** The generation has arrived and every step 0..steps_total−1 is present. */
    public boolean generateComplete() {
        if (generation == null) {
            return false;
        }
        for (int i = 0; i < generation.stepsTotal(); i++) {
            if (!steps.containsKey(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * The time the run's metric contribution is stamped with (windows are on it): the generation's time when the
     * run generates, else the latest probe record's time.
     */
    public long time() {
        if (has(GENERATE)) {
            return generation.producedAt();
        }
        long t = Long.MIN_VALUE;
        if (unary != null) {
            t = Math.max(t, unary.producedAt());
        }
        if (binary != null) {
            t = Math.max(t, binary.producedAt());
        }
        return t;
    }
}
