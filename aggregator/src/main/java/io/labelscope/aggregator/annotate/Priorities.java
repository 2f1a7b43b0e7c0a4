package io.labelscope.aggregator.annotate;

import io.labelscope.aggregator.Keys;
import io.labelscope.aggregator.avro.AnnotationCandidateRecord;
import io.labelscope.math.AnnotationPriority;
import io.labelscope.math.AnnotationPriority.Settings;
import io.labelscope.math.AnnotationPriority.Strategy;
import io.labelscope.math.Conventions;
import io.labelscope.schemas.AnnotationRequest;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.MethodResult;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * From a document's latest distribution to its annotation priority (issue #18, docs/annotate-next.md): what the
 * strategies need is taken from the distribution once ({@link #candidate}), the math is paper-math's
 * {@link AnnotationPriority}, and each priority comes with the labels and numbers behind it ({@link #suggestion}).
 * Pure functions, shared by the topology (the topic's {@code flip} records), the REST answer (every strategy, on
 * request) and the tests.
 */
public final class Priorities {

    /** The method whose probabilities are the model's p (the paper's best-aligned zero-shot method). */
    static final String MODEL_METHOD = "max_over_generations";

    /** How many labels a reason names; the rest are counted. */
    private static final int NAMED_LABELS = 3;

    private Priorities() {
    }

    /** Key of a document and model, in the store and on {@code annotation-requests}: model names never hold '|'. */
    public static String key(String model, String documentId) {
        return model + Keys.SEPARATOR + documentId;
    }

    /**
     * What every strategy needs of a distribution: p per label (max-over-generations), k per label and n.
     * k_l = round(H_l · n): the distribution carries the human distribution H = k/n, not the votes, and
     * rounding undoes the division exactly for any n a document can have.
     *
     * @return null for a run without {@code generate} (no max-over-generations: nothing to weigh the humans against)
     * @throws IllegalArgumentException when max-over-generations lacks one of the labels
     */
    public static AnnotationCandidateRecord candidate(DocumentDistribution d) {
        MethodResult mog = d.getMethods().get(MODEL_METHOD);
        if (mog == null) {
            return null;
        }
        List<Double> p = new ArrayList<>(d.getLabels().size());
        List<Integer> votes = new ArrayList<>(d.getLabels().size());
        Map<String, Double> human = d.getHuman();
        for (String label : d.getLabels()) {
            Double pl = mog.getDistribution().get(label);
            if (pl == null) {
                throw new IllegalArgumentException(MODEL_METHOD + " of document '" + d.getDocumentId()
                        + "' has no probability for label '" + label + "'");
            }
            p.add(pl);
            Double h = human == null ? null : human.get(label);
            votes.add(h == null ? 0 : (int) Math.round(h * d.getAnnotators()));
        }
        return AnnotationCandidateRecord.newBuilder()
                .setDocumentId(d.getDocumentId()).setTask(d.getTask()).setModel(d.getModel())
                .setLabels(new ArrayList<>(d.getLabels())).setModelP(p).setVotes(votes)
                .setAnnotators(d.getAnnotators()).setSuggestedLabels(new ArrayList<>(mog.getPredicted()))
                .setUpdatedAt(d.getUpdatedAt()).build();
    }

    /**
     * The candidate's priority under a strategy, explained.
     *
     * @throws IllegalArgumentException when p or the votes are out of range (paper-math checks them)
     */
    public static Suggestion suggestion(AnnotationCandidateRecord c, Strategy strategy, Settings settings,
                                        Conventions conventions) {
        double[] p = c.getModelP().stream().mapToDouble(Double::doubleValue).toArray();
        int[] k = c.getVotes().stream().mapToInt(Integer::intValue).toArray();
        int n = c.getAnnotators();
        double priority = AnnotationPriority.priority(strategy, p, k, n, settings, conventions);
        String why;
        if (n >= settings.maxAnnotators()) {
            why = annotators(n) + ", the maximum (" + settings.maxAnnotators() + "): not requested";
        } else {
            why = switch (strategy) {
                case FLIP -> whyFlip(c.getLabels(), p, k, n, settings, conventions);
                case UNCERTAINTY -> whyUncertainty(c.getLabels(), p, priority);
                case DISAGREEMENT -> whyDisagreement(c.getLabels(), p, k, n, priority);
            };
        }
        return new Suggestion(c.getDocumentId(), c.getTask(), c.getModel(), priority, strategy.wireName(), n, why,
                List.copyOf(c.getSuggestedLabels()));
    }

    /**
     * The "annotate next" order of docs/annotate-next.md ({@link AnnotationPriority#rank}): priority above 0 only,
     * highest first, priorities within SPEC §4's tolerance by ascending document id (one document of two models:
     * by model, so every instance and every merge gives the same list).
     */
    public static List<Suggestion> top(Collection<Suggestion> suggestions, int n, Conventions conventions) {
        List<Suggestion> byId = new ArrayList<>(suggestions);
        byId.sort(Comparator.comparing(Suggestion::documentId).thenComparing(Suggestion::model));
        return AnnotationPriority.rank(byId, Suggestion::documentId, Suggestion::priority, n, conventions);
    }

    /** The topic's record of a suggestion. */
    public static AnnotationRequest request(Suggestion s, AnnotationCandidateRecord from) {
        return AnnotationRequest.newBuilder()
                .setDocumentId(s.documentId()).setTask(s.task()).setModel(s.model()).setPriority(s.priority())
                .setStrategy(s.strategy()).setAnnotators(s.annotators()).setWhy(s.why())
                .setSuggestedLabels(new ArrayList<>(s.suggestedLabels())).setUpdatedAt(from.getUpdatedAt())
                .build();
    }

    private static String whyFlip(List<String> labels, double[] p, int[] k, int n, Settings settings,
                                  Conventions conventions) {
        double[] flips = AnnotationPriority.flipProbabilities(p, k, n, settings, conventions);
        List<Integer> flippable = new ArrayList<>();
        for (int i = 0; i < flips.length; i++) {
            if (flips[i] > 0) {
                flippable.add(i);
            }
        }
        if (flippable.isEmpty()) {
            return annotators(n) + "; no label's decision changes with one more annotation";
        }
        flippable.sort(Comparator.comparingDouble((Integer i) -> -flips[i]).thenComparing(i -> i));
        double s = settings.priorStrength();
        List<String> named = new ArrayList<>();
        for (int i : flippable.subList(0, Math.min(NAMED_LABELS, flippable.size()))) {
            double m = AnnotationPriority.posteriorMean(p[i], k[i], n, s);
            boolean yes = conventions.reaches(m, conventions.modelThreshold());
            double after = (s * p[i] + k[i] + (yes ? 0 : 1)) / (s + n + 1);
            named.add(String.format(Locale.ROOT, "%s %.2f→%.2f on a %s vote (p %.2f, %d of %d yes; P %.2f)",
                    labels.get(i), m, after, yes ? "no" : "yes", p[i], k[i], n, flips[i]));
        }
        return annotators(n) + "; " + flippable.size() + (flippable.size() == 1 ? " decision" : " decisions")
                + " one more annotation can flip: " + String.join(", ", named) + more(flippable.size());
    }

    private static String whyUncertainty(List<String> labels, double[] p, double bits) {
        // Binary entropy is largest at 0.5 and falls symmetrically, so the least certain labels are the closest
        // to 0.5.
        List<Integer> order = indices(p.length);
        order.sort(Comparator.comparingDouble((Integer i) -> Math.abs(p[i] - 0.5)).thenComparing(i -> i));
        List<String> named = new ArrayList<>();
        for (int i : order.subList(0, Math.min(NAMED_LABELS, order.size()))) {
            named.add(String.format(Locale.ROOT, "%s (p %.2f)", labels.get(i), p[i]));
        }
        return String.format(Locale.ROOT, "model entropy %.2f bits over %d labels; least certain: %s", bits,
                p.length, String.join(", ", named));
    }

    private static String whyDisagreement(List<String> labels, double[] p, int[] k, int n, double l1) {
        if (n == 0) {
            return String.format(Locale.ROOT, "no annotator yet: the largest L1, %d (the number of labels)",
                    p.length);
        }
        List<Integer> order = indices(p.length);
        order.sort(Comparator.comparingDouble((Integer i) -> -Math.abs(p[i] - (double) k[i] / n))
                .thenComparing(i -> i));
        List<String> named = new ArrayList<>();
        for (int i : order.subList(0, Math.min(NAMED_LABELS, order.size()))) {
            named.add(String.format(Locale.ROOT, "%s (model %.2f, humans %d of %d)", labels.get(i), p[i], k[i], n));
        }
        return String.format(Locale.ROOT, "L1 %.2f between the model and %s; largest gaps: %s", l1, annotators(n),
                String.join(", ", named));
    }

    private static List<Integer> indices(int size) {
        List<Integer> out = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            out.add(i);
        }
        return out;
    }

    private static String more(int listed) {
        return listed > NAMED_LABELS ? " (+" + (listed - NAMED_LABELS) + " more)" : "";
    }

    private static String annotators(int n) {
        return n == 1 ? "1 annotator" : n + " annotators";
    }
}
