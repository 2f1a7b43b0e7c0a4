package io.labelscope.aggregator.metrics;

import com.fasterxml.jackson.annotation.JsonIgnore;

import io.labelscope.math.Alignment;
import io.labelscope.math.Moments;

/**
 * Sums of one method's per-document NLL, L1 and example-F1 (documents with annotators only).
 *
 * <p>Sums rather than means so that a document's old contribution can be subtracted when its annotations
 * change: the all-time mean then counts every document once, with its current annotations.
 */
public record AlignmentTally(Moments nll, Moments l1, Moments exampleF1) {

    public static final AlignmentTally EMPTY = new AlignmentTally(Moments.EMPTY, Moments.EMPTY, Moments.EMPTY);

    public static AlignmentTally of(Alignment.Scores scores) {
        return scores == null ? EMPTY
                : new AlignmentTally(Moments.of(scores.nll()), Moments.of(scores.l1()), Moments.of(scores.exampleF1()));
    }

    public AlignmentTally plus(AlignmentTally o) {
        return new AlignmentTally(nll.plus(o.nll), l1.plus(o.l1), exampleF1.plus(o.exampleF1));
    }

    public AlignmentTally minus(AlignmentTally o) {
        return new AlignmentTally(nll.minus(o.nll), l1.minus(o.l1), exampleF1.minus(o.exampleF1));
    }

    /** Documents counted. */
    @JsonIgnore
    public long documents() {
        return nll.count();
    }

    @JsonIgnore
    public boolean isEmpty() {
        return nll.count() == 0 && nll.sum() == 0 && l1.sum() == 0 && exampleF1.sum() == 0;
    }
}
