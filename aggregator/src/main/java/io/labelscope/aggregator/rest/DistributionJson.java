package io.labelscope.aggregator.rest;

import io.labelscope.aggregator.document.NamedDoubles;

import io.labelscope.aggregator.avro.DistributionStateRecord;
import io.labelscope.aggregator.avro.MethodStateRecord;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A run's distribution as {@code GET /documents/{id}} and the dashboard's document view show it: the fields of
 * the stored {@link DistributionStateRecord} under their JSON names, in its order, with the values over the
 * labels as maps from label to value (the state keeps only the values).
 */
public final class DistributionJson {

    private DistributionJson() {
    }

    public static Map<String, Object> of(DistributionStateRecord d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("document_id", d.getDocumentId());
        m.put("task", d.getTask());
        m.put("model", d.getModel());
        m.put("run_id", d.getRunId());
        m.put("labels", d.getLabels());
        m.put("human", NamedDoubles.map(d.getHuman(), d.getLabels()));
        m.put("annotators", d.getAnnotators());
        m.put("methods", methods(d));
        m.put("updated_at", d.getUpdatedAt());
        m.put("version", d.getVersion());
        m.put("task_version", d.getTaskVersion());
        return m;
    }

    /** Method name → its distribution, predicted labels and scores (null while there are no annotators). */
    public static Map<String, Object> methods(DistributionStateRecord d) {
        Map<String, Object> methods = new LinkedHashMap<>();
        for (MethodStateRecord r : d.getMethods()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("distribution", NamedDoubles.map(r.getDistribution(), d.getLabels()));
            m.put("predicted", r.getPredicted());
            m.put("nll", r.getNll());
            m.put("l1", r.getL1());
            m.put("example_f1", r.getExampleF1());
            methods.put(r.getName(), m);
        }
        return methods;
    }
}
