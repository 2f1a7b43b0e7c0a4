package io.labelscope.aggregator.document;

import io.labelscope.aggregator.avro.NamedDoublesRecord;
import io.labelscope.math.Labels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Values over a document's labels (a distribution; then none, for a step's logits) as the state keeps them
 * ({@link NamedDoublesRecord}): every input record reads and rewrites its document's state, so the labels are not
 * written again with each such map, only its values in label order.
 */
public final class NamedDoubles {

    private NamedDoubles() {
    }

    /** Values over the document's labels (or its labels then none), in that order. */
    public static NamedDoublesRecord of(double[] values) {
        List<Double> list = new ArrayList<>(values.length);
        for (double v : values) {
            list.add(v);
        }
        return new NamedDoublesRecord(null, list);
    }

    /**
     * The values in the order of {@code names}, NaN for a name the record has no value for. A record with names of
     * its own (none since the records are only written over the labels) is read by name.
     */
    public static double[] over(NamedDoublesRecord r, List<String> names) {
        double[] out = new double[names.size()];
        List<Double> values = r.getValues();
        if (r.getNames() == null) {
            if (values.size() != names.size()) {
                throw new IllegalStateException("a map over the document's labels has " + values.size()
                        + " values for " + names.size() + " labels");
            }
            for (int i = 0; i < out.length; i++) {
                Double v = values.get(i);
                out[i] = v == null ? Double.NaN : v;
            }
            return out;
        }
        Map<String, Double> byName = map(r, null);
        for (int i = 0; i < out.length; i++) {
            Double v = byName.get(names.get(i));
            out[i] = v == null ? Double.NaN : v;
        }
        return out;
    }

    /** As a map in the labels' order (what the JSON views and the output records show); null stays null. */
    public static Map<String, Double> map(NamedDoublesRecord r, List<String> names) {
        if (r == null) {
            return null;
        }
        List<String> keys = r.getNames() != null ? r.getNames() : names;
        if (keys == null || keys.size() != r.getValues().size()) {
            throw new IllegalStateException("a map over the document's labels has " + r.getValues().size()
                    + " values for " + (keys == null ? "no labels" : keys.size() + " labels"));
        }
        Map<String, Double> map = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            map.put(keys.get(i), r.getValues().get(i));
        }
        return map;
    }

    /** The document's labels then none: the names of a step's logits and of the probes. */
    public static List<String> withNone(List<String> labels) {
        List<String> names = new ArrayList<>(labels.size() + 1);
        names.addAll(labels);
        names.add(Labels.NONE);
        return names;
    }
}
