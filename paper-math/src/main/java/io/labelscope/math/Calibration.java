package io.labelscope.math;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The calibrated method {@code calibrated_max_over_generations} (docs/calibration.md §2–§3): max-over-generations
 * passed through a Platt map per label (or one map shared by all labels) fitted on annotated documents.
 *
 * <p><b>Prequential by construction.</b> A document's calibrated distribution uses a calibrator fitted only on
 * other documents annotated before it; below {@link Settings#minimumDocuments()} annotated documents the
 * calibrator is the identity (p' = p exactly) and says so ({@link Calibrator#identity()}). {@link #prequential}
 * is the rule over a sequence in arrival order (the offline eval's file order); a stream keeps an {@link Evidence}
 * per task/model, adds a document's pairs once it is annotated (subtracting its old pairs when they change) and
 * refits.
 */
public final class Calibration {

    /**
     * Every setting of the calibrated method.
     *
     * @param minimumDocuments  annotated documents needed before a fitted map replaces the identity
     * @param sharedAcrossLabels one map for all labels (pairs pooled) instead of one per label
     * @param lambda            L2 weight of the fit towards the identity map (a, b) = (1, 0)
     * @param gradientTolerance Newton stops once max |∇f| is below this
     */
    public record Settings(int minimumDocuments, boolean sharedAcrossLabels, double lambda,
                           double gradientTolerance) {
        public Settings {
            if (minimumDocuments < 0) {
                throw new IllegalArgumentException("the minimum document count cannot be negative: "
                        + minimumDocuments);
            }
            if (!(lambda > 0)) {
                throw new IllegalArgumentException("the calibration L2 weight must be positive, was " + lambda);
            }
            if (!(gradientTolerance > 0)) {
                throw new IllegalArgumentException("the gradient tolerance must be positive, was "
                        + gradientTolerance);
            }
        }

        /** Defaults: 50 documents, one map per label, λ = 1e-3, tolerance 1e-12. */
        public static Settings defaults() {
            return new Settings(50, false, 1e-3, 1e-12);
        }

        public Settings withMinimumDocuments(int v) {
            return new Settings(v, sharedAcrossLabels, lambda, gradientTolerance);
        }

        public Settings withSharedAcrossLabels(boolean v) {
            return new Settings(minimumDocuments, v, lambda, gradientTolerance);
        }

        public Settings withLambda(double v) {
            return new Settings(minimumDocuments, sharedAcrossLabels, v, gradientTolerance);
        }
    }

    /** Key of the pooled statistics and map when one map is shared by all labels. */
    public static final String ALL_LABELS = "*";

    /**
     * The calibrator one document is calibrated with.
     *
     * @param identity          true while fewer than the minimum annotated documents exist (p' = p)
     * @param fittedOnDocuments the annotated documents the maps were fitted on
     * @param maps              label (or {@link #ALL_LABELS}) → map; a label without pairs keeps (1, 0)
     */
    public record Calibrator(boolean identity, long fittedOnDocuments, SortedMap<String, PlattScaling.PlattMap> maps) {

        public static Calibrator identity(long documents) {
            return new Calibrator(true, documents, Collections.emptySortedMap());
        }

        public Calibrator {
            maps = Collections.unmodifiableSortedMap(new TreeMap<>(maps));
        }

        /** The map of one label: its own, the shared one, or the identity parameters when it had no pairs. */
        public PlattScaling.PlattMap mapOf(String label) {
            PlattScaling.PlattMap m = maps.get(label);
            if (m == null) {
                m = maps.get(ALL_LABELS);
            }
            return m == null ? PlattScaling.PlattMap.IDENTITY_PARAMETERS : m;
        }

        /** p' over the labels; the identity returns p unchanged. */
        public double[] apply(List<String> labels, double[] p, double clip) {
            if (identity) {
                return p.clone();
            }
            double[] out = new double[p.length];
            for (int l = 0; l < p.length; l++) {
                out[l] = mapOf(labels.get(l)).apply(p[l], clip);
            }
            return out;
        }
    }

    /**
     * What the fit knows: the annotated documents counted and their binned pairs per label (or pooled under
     * {@link #ALL_LABELS}). Immutable; plus/minus so a stream can replace a document's contribution.
     */
    public record Evidence(long documents, SortedMap<String, PlattScaling.Statistics> byLabel) {

        public static final Evidence EMPTY = new Evidence(0, Collections.emptySortedMap());

        public Evidence {
            byLabel = Collections.unmodifiableSortedMap(new TreeMap<>(byLabel));
        }

        /**
         * One annotated document: its raw max-over-generations p and human H over its labels.
         *
         * @param clip the clip applied before logit (the conventions' NLL clip)
         */
        public static Evidence ofDocument(List<String> labels, double[] p, double[] human, boolean shared,
                                          double clip) {
            SortedMap<String, PlattScaling.Statistics> m = new TreeMap<>();
            for (int l = 0; l < labels.size(); l++) {
                m.merge(shared ? ALL_LABELS : labels.get(l), PlattScaling.Statistics.ofPair(p[l], human[l], clip),
                        PlattScaling.Statistics::plus);
            }
            return new Evidence(1, m);
        }

        public Evidence plus(Evidence o) {
            return combine(o, true);
        }

        public Evidence minus(Evidence o) {
            return combine(o, false);
        }

        private Evidence combine(Evidence o, boolean add) {
            SortedMap<String, PlattScaling.Statistics> m = new TreeMap<>(byLabel);
            for (Map.Entry<String, PlattScaling.Statistics> e : o.byLabel.entrySet()) {
                PlattScaling.Statistics mine = m.getOrDefault(e.getKey(), PlattScaling.Statistics.EMPTY);
                m.put(e.getKey(), add ? mine.plus(e.getValue()) : mine.minus(e.getValue()));
            }
            return new Evidence(add ? documents + o.documents : documents - o.documents, m);
        }

        /** The calibrator these documents give: identity below the minimum count, else one fit per key. */
        public Calibrator fit(Settings settings) {
            if (documents < settings.minimumDocuments() || documents == 0) {
                return Calibrator.identity(documents);
            }
            SortedMap<String, PlattScaling.PlattMap> maps = new TreeMap<>();
            byLabel.forEach((label, stats) -> maps.put(label,
                    PlattScaling.fit(stats, settings.lambda(), settings.gradientTolerance())));
            return new Calibrator(false, documents, maps);
        }
    }

    private Calibration() {
    }

    /**
     * The prequential rule over documents in arrival order: document i is calibrated with the fit on the annotated
     * documents before it (never itself, never a later one); then, if annotated, it joins the evidence.
     *
     * @return per report, in order, the calibrator that calibrates it
     */
    public static List<Calibrator> prequential(List<DocumentAnalysis.Report> inOrder, Settings settings,
                                               Conventions conventions) {
        List<Calibrator> out = new ArrayList<>(inOrder.size());
        Evidence evidence = Evidence.EMPTY;
        Calibrator current = evidence.fit(settings);
        boolean stale = false;
        for (DocumentAnalysis.Report r : inOrder) {
            if (stale) {
                current = evidence.fit(settings);
                stale = false;
            }
            out.add(current);
            if (r.annotated()) {
                evidence = evidence.plus(evidenceOf(r, settings, conventions));
                stale = true;
            }
        }
        return out;
    }

    /** All annotated documents of {@code reports} at once (calibrators fitted on a separate file). */
    public static Evidence evidence(List<DocumentAnalysis.Report> reports, Settings settings,
                                    Conventions conventions) {
        Evidence evidence = Evidence.EMPTY;
        for (DocumentAnalysis.Report r : reports) {
            if (r.annotated()) {
                evidence = evidence.plus(evidenceOf(r, settings, conventions));
            }
        }
        return evidence;
    }

    /** One annotated document's evidence: its raw max-over-generations against H. */
    public static Evidence evidenceOf(DocumentAnalysis.Report r, Settings settings, Conventions conventions) {
        return Evidence.ofDocument(r.labels(), r.methods().get(Method.MAX_OVER_GENERATIONS).distribution(),
                r.human(), settings.sharedAcrossLabels(), conventions.nllClip());
    }

    /**
     * The calibrated method's result for one document: the calibrator applied to its max-over-generations, with
     * predicted labels and (when annotated) NLL / L1 / example-F1 as for every other method.
     */
    public static DocumentAnalysis.MethodResult calibrated(DocumentAnalysis.Report r, Calibrator calibrator,
                                                           Conventions conventions) {
        double[] p = calibrator.apply(r.labels(), r.methods().get(Method.MAX_OVER_GENERATIONS).distribution(),
                conventions.nllClip());
        Alignment.Scores scores = r.human() == null ? null
                : Alignment.score(p, r.human(), r.labels(), r.goldLabels(), conventions);
        return new DocumentAnalysis.MethodResult(p, Alignment.predicted(r.labels(), p, conventions), scores);
    }
}
