package io.labelscope.aggregator.state;

import java.util.Map;
import java.util.TreeMap;

/** The steps and generation of one (model, run) of a document, collected until complete. */
public final class RunState {
    public String model;
    public String runId;
    /** Steps by 0-based index; a re-sent step (same run and index) replaces the earlier one. */
    public Map<Integer, StepEntry> steps = new TreeMap<>();
    public GenerationEntry generation;
    public Emitted emitted;

    public RunState() {
    }

    public RunState(String model, String runId) {
        this.model = model;
        this.runId = runId;
    }

    /** Complete once the generation has arrived and every step 0..steps_total−1 is present. */
    public boolean complete() {
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
}
