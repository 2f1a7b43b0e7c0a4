package io.labelscope.runtime.task;

/**
 * Which item of a binary-breakdown pair is shown as option a. Every unordered pair of L ∪ {none} is asked once, so
 * the order is a choice the paper leaves open; its appendix example shows {@code none} as option a, hence the
 * default. Position bias of the model moves the scores, which is why the setting is explicit (and part of the run id).
 */
public enum PairOrder {
    /** Items ordered none, then the labels in instruction order; a is the earlier one (none is always a). */
    NONE_FIRST,
    /** Items ordered as the labels in instruction order, then none; a is the earlier one (none is always b). */
    LABELS_FIRST;

    public String wireName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
