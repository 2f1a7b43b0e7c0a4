package io.labelscope.math;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Label names as the paper compares them, and the {@code none} pseudo-label.
 *
 * <p>Arrays over "labels + none" in this library always hold the task's labels in instruction order first and
 * {@code none} last (index {@code labels.size()}); that order is also the tie-break order of SPEC §5.
 */
public final class Labels {

    /** The scored pseudo-label for "no label"; never a member of a task's label set. */
    public static final String NONE = "none";

    private Labels() {
    }

    /** Labels are compared lower-cased and trimmed (EVAL-FORMAT), so "Joy " and "joy" are one label. */
    public static String normalize(String label) {
        return label == null ? null : label.trim().toLowerCase(Locale.ROOT);
    }

    /**
     * Normalises a task's label set and checks it: no duplicates, no {@code none}, not empty.
     */
    public static List<String> normalizeLabelSet(Collection<String> labels) {
        if (labels == null || labels.isEmpty()) {
            throw new IllegalArgumentException("a task needs at least one label");
        }
        Set<String> seen = new LinkedHashSet<>();
        for (String raw : labels) {
            String l = normalize(raw);
            if (l == null || l.isEmpty()) {
                throw new IllegalArgumentException("empty label name in " + labels);
            }
            if (NONE.equals(l)) {
                throw new IllegalArgumentException("'none' is a pseudo-label, not a member of the label set");
            }
            if (!seen.add(l)) {
                throw new IllegalArgumentException("duplicate label '" + l + "' in " + labels);
            }
        }
        return List.copyOf(seen);
    }

    /** The distinct members of the label set found in {@code output}, in output order (none/unknown dropped). */
    public static List<String> distinctValid(List<String> labels, Collection<String> output) {
        Set<String> valid = new LinkedHashSet<>();
        if (output != null) {
            for (String raw : output) {
                String l = normalize(raw);
                if (l != null && labels.contains(l)) {
                    valid.add(l);
                }
            }
        }
        return new ArrayList<>(valid);
    }

    /** Name of index {@code i} of a labels-plus-none array. */
    public static String nameAt(List<String> labels, int i) {
        return i == labels.size() ? NONE : labels.get(i);
    }

    /** Index of a normalised label or {@code none} in a labels-plus-none array; −1 when unknown. */
    public static int indexWithNone(List<String> labels, String normalized) {
        if (NONE.equals(normalized)) {
            return labels.size();
        }
        return labels.indexOf(normalized);
    }
}
