package io.labelscope.aggregator.state;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything the aggregator knows about one document (state store {@code documents}, key = document id):
 * its label set, the runs of each model, and one annotation per annotator.
 *
 * <p>Mutable on purpose: the assembler loads it, changes it and puts it back within one record's processing.
 */
public final class DocumentState {
    public String documentId;
    public String task;
    /** Normalised label set in instruction order; null until a step or generation has carried it. */
    public List<String> labels;
    /** Runs by {@link #runKey}. */
    public Map<String, RunState> runs = new TreeMap<>();
    /** Current annotation per annotator id (re-sent = replaced). */
    public Map<String, AnnotationEntry> annotations = new TreeMap<>();

    public static String runKey(String model, String runId) {
        return model + "\u001f" + runId;
    }

    public RunState run(String model, String runId) {
        return runs.computeIfAbsent(runKey(model, runId), k -> new RunState(model, runId));
    }
}
