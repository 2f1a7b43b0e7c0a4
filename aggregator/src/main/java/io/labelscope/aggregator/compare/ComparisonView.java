package io.labelscope.aggregator.compare;

import io.labelscope.aggregator.avro.ComparedDocumentRecord;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The JSON of {@code GET /api/compare} (snake_case), from the sums of every instance. */
public final class ComparisonView {

    static final String NOTE = "d = A − B per document, over the documents both scored with annotators; "
            + "negative NLL and L1 and positive example-F1 differences mean A is better; 95 % paired Student t "
            + "interval (docs/calibration.md §4); NLL and L1 alone reward a constant distribution (paper A.6).";

    private ComparisonView() {
    }

    /**
     * What one instance answers alone from its store (a single instance; the TopologyTestDriver's store).
     *
     * @throws IllegalArgumentException for parameters {@code GET /api/compare} answers 400 to
     */
    public static Map<String, Object> ofStore(ReadOnlyKeyValueStore<String, ComparedDocumentRecord> store,
                                              String task, String a, String b, String method) {
        CompareResource.Request request = CompareResource.Request.of(task, a, b, method);
        return of(request, ComparisonSums.of(store, request), List.of());
    }

    static Map<String, Object> of(CompareResource.Request request, ComparisonSums sums, List<String> unreachable) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("task", request.task());
        body.put("a", request.a() == null ? null : request.a().toString());
        body.put("b", request.b() == null ? null : request.b().toString());
        body.put("method", request.method());
        List<Map<String, Object>> configurations = new ArrayList<>();
        sums.configurations().forEach((written, documents) -> {
            Configuration c = Configuration.parse(written);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("configuration", written);
            m.put("model", c.model());
            m.put("version", c.version());
            m.put("documents", documents);
            configurations.add(m);
        });
        body.put("configurations", configurations);
        body.put("methods", sums.result());
        body.put("instances_unreachable", unreachable);
        body.put("note", NOTE);
        return body;
    }
}
