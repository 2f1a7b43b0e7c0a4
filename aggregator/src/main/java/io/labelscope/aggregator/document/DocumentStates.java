package io.labelscope.aggregator.document;

import io.labelscope.aggregator.avro.AnnotationStateRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.aggregator.avro.StepRecord;

import java.util.ArrayList;
import java.util.List;

/**
 * The documents' state (store {@code documents}) is the generated Avro {@link DocumentStateRecord} itself, changed
 * in place by the assembler within one record's processing and put back; this class holds what the state needs
 * beyond its fields: finding a run, a step or an annotation, and when a run is complete. What each field means
 * is said in {@code src/main/avro/DocumentStateRecord.avsc}.
 *
 * <p>Runs are kept in the order of (model, run id), steps in step order and annotations in annotator-id order
 * (what the REST and dashboard views list), so each is found by binary search.
 */
public final class DocumentStates {

    public static final String GENERATE = "generate";
    public static final String UNARY = "unary";
    public static final String BINARY = "binary";
    /** The method names a run may list. */
    public static final List<String> METHODS = List.of(GENERATE, UNARY, BINARY);

    private DocumentStates() {
    }

    /** The state of a document the aggregator has not seen yet. */
    public static DocumentStateRecord empty(String documentId) {
        return new DocumentStateRecord(documentId, null, null, new ArrayList<>(), new ArrayList<>());
    }

    /** The document's run of (model, run id), added (without records yet) when it has none. */
    public static RunRecord run(DocumentStateRecord state, String model, String runId) {
        List<RunRecord> runs = state.getRuns();
        int lo = 0;
        int hi = runs.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            RunRecord r = runs.get(mid);
            int c = compareRun(r.getModel(), r.getRunId(), model, runId);
            if (c == 0) {
                return r;
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        RunRecord run = RunRecord.newBuilder().setModel(model).setRunId(runId).setMethods(null)
                .setSteps(new ArrayList<>()).setGeneration(null).setUnary(null).setBinary(null).setEmitted(null)
                .build();
        runs.add(lo, run);
        return run;
    }

    /** By model, then run id (a null model or run id first). */
    private static int compareRun(String modelA, String runA, String modelB, String runB) {
        int c = compareNullable(modelA, modelB);
        return c != 0 ? c : compareNullable(runA, runB);
    }

    private static int compareNullable(String a, String b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : -1) : 1;
        }
        return a.compareTo(b);
    }

    /** Puts a step in step order; a re-sent step (same index) replaces the earlier one. */
    public static void putStep(RunRecord run, StepRecord step) {
        int i = stepIndex(run, step.getStep());
        if (i >= 0) {
            run.getSteps().set(i, step);
        } else {
            run.getSteps().add(-i - 1, step);
        }
    }

    /** The run's step of 0-based index {@code step}, or null. */
    public static StepRecord step(RunRecord run, int step) {
        int i = stepIndex(run, step);
        return i >= 0 ? run.getSteps().get(i) : null;
    }

    private static int stepIndex(RunRecord run, int step) {
        List<StepRecord> steps = run.getSteps();
        int lo = 0;
        int hi = steps.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = Integer.compare(steps.get(mid).getStep(), step);
            if (c == 0) {
                return mid;
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return -lo - 1;
    }

    /** The annotator's current annotation of the document, or null. */
    public static AnnotationStateRecord annotation(DocumentStateRecord state, String annotatorId) {
        int i = annotationIndex(state, annotatorId);
        return i >= 0 ? state.getAnnotations().get(i) : null;
    }

    /** Puts an annotation in annotator order; a re-sent one (same annotator) replaces the earlier one. */
    public static void putAnnotation(DocumentStateRecord state, AnnotationStateRecord annotation) {
        int i = annotationIndex(state, annotation.getAnnotatorId());
        if (i >= 0) {
            state.getAnnotations().set(i, annotation);
        } else {
            state.getAnnotations().add(-i - 1, annotation);
        }
    }

    private static int annotationIndex(DocumentStateRecord state, String annotatorId) {
        List<AnnotationStateRecord> annotations = state.getAnnotations();
        int lo = 0;
        int hi = annotations.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = annotations.get(mid).getAnnotatorId().compareTo(annotatorId);
            if (c == 0) {
                return mid;
            }
            if (c < 0) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return -lo - 1;
    }

    /**
     * Whether the run uses a method. Which methods to wait for travels with the run's generation and probe records;
     * label steps do not carry it. A generation from before runs carried their method set (state written by an
     * earlier version) means a generate-only run.
     */
    public static boolean has(RunRecord run, String method) {
        if (run.getMethods() == null) {
            return run.getGeneration() != null && GENERATE.equals(method);
        }
        return run.getMethods().contains(method);
    }

    /** Complete once every method of the run has arrived, in whatever order. */
    public static boolean complete(RunRecord run) {
        if (run.getMethods() == null && run.getGeneration() == null) {
            return false;
        }
        return (!has(run, GENERATE) || generateComplete(run)) && (!has(run, UNARY) || run.getUnary() != null)
                && (!has(run, BINARY) || run.getBinary() != null);
    }

    /** The generation has arrived and every step 0..steps_total−1 is present. */
    private static boolean generateComplete(RunRecord run) {
        if (run.getGeneration() == null) {
            return false;
        }
        for (int i = 0; i < run.getGeneration().getStepsTotal(); i++) {
            if (step(run, i) == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * The time the run's metric contribution is stamped with (windows are on it): the generation's time when the
     * run generates, else the latest probe record's time.
     */
    public static long time(RunRecord run) {
        if (has(run, GENERATE)) {
            return run.getGeneration().getProducedAt();
        }
        long t = Long.MIN_VALUE;
        if (run.getUnary() != null) {
            t = Math.max(t, run.getUnary().getProducedAt());
        }
        if (run.getBinary() != null) {
            t = Math.max(t, run.getBinary().getProducedAt());
        }
        return t;
    }
}
