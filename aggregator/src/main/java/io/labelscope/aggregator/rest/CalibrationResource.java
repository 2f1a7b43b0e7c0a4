package io.labelscope.aggregator.rest;

import io.labelscope.aggregator.CalibrationRecords;
import io.labelscope.aggregator.Keys;
import io.labelscope.aggregator.TopologyProducer;
import io.labelscope.aggregator.WindowSpec;
import io.labelscope.aggregator.WindowSpecs;
import io.labelscope.aggregator.metrics.CalibrationTallies;
import io.labelscope.math.ReliabilityDiagram;
import io.labelscope.schemas.CalibrationBin;
import io.labelscope.schemas.CalibrationMetric;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * {@code GET /api/calibration?task=&model=&method=[&label=][&window=]}: one method's reliability diagram and soft
 * ECE (docs/calibration.md §1), the fields of its {@code calibration-metrics} rows as JSON. All-time at the top
 * level, each retained window's row under {@code windows} ({@code window=} keeps one window setting, e.g.
 * {@code PT1M} or {@code PT15M/PT5M}); {@code label} absent: all labels pooled. Also {@code methods} and
 * {@code labels}: what the task/model has, for a page's selectors. Answered by the instance that owns the
 * task/model, like {@code /metrics/alignment}.
 */
@Path("/api/calibration")
@Produces(MediaType.APPLICATION_JSON)
public class CalibrationResource {

    @Inject
    InteractiveQueries queries;

    @Inject
    WindowSpecs windows;

    @Context
    UriInfo uri;

    @GET
    public Response calibration(@QueryParam("task") String task, @QueryParam("model") String model,
                                @QueryParam("method") String method, @QueryParam("label") String label,
                                @QueryParam("window") String window,
                                @HeaderParam(InteractiveQueries.FORWARDED_HEADER) String forwarded) {
        if (task == null || task.isBlank() || model == null || model.isBlank() || method == null
                || method.isBlank()) {
            throw new BadRequestException("task, model and method are required query parameters");
        }
        List<WindowSpec> selected = windows.specs().stream().filter(w -> window == null || named(w, window))
                .toList();
        if (selected.isEmpty()) {
            throw new BadRequestException("no window " + window + "; windows: "
                    + windows.specs().stream().map(CalibrationResource::spec).toList());
        }
        String key = Keys.taskModel(task, model);
        return queries.query(TopologyProducer.CALIBRATION_STORE,
                QueryableStoreTypes.<String, CalibrationTallies>keyValueStore(), key, pathAndQuery(),
                forwarded != null, store -> {
                    CalibrationTallies allTime = store.get(key);
                    SortedMap<String, ReliabilityDiagram> byLabel = allTime == null ? null
                            : allTime.byMethod().get(method);
                    if (byLabel == null || (label != null && !byLabel.containsKey(label))) {
                        return Response.status(Response.Status.NOT_FOUND).entity(Map.of("error",
                                "no calibration of " + method + (label == null ? "" : " for label " + label)
                                        + " for task " + task + ", model " + model + "; methods: "
                                        + (allTime == null ? List.of() : allTime.byMethod().keySet()))).build();
                    }
                    Map<String, Object> body = json(CalibrationRecords.row(task, model, method, label,
                            diagram(byLabel, label), null, null, System.currentTimeMillis()));
                    body.put("windows", windowed(key, task, model, method, label, selected));
                    body.put("methods", List.copyOf(allTime.byMethod().keySet()));
                    body.put("labels", List.copyOf(byLabel.keySet()));
                    return Response.ok(body).build();
                });
    }

    private static ReliabilityDiagram diagram(Map<String, ReliabilityDiagram> byLabel, String label) {
        if (label == null) {
            return CalibrationTallies.pooled(byLabel);
        }
        return byLabel.getOrDefault(label, ReliabilityDiagram.EMPTY);
    }

    /** The retained windows of the selected settings (co-partitioned with the all-time store). */
    private List<Map<String, Object>> windowed(String key, String task, String model, String method, String label,
                                               List<WindowSpec> selected) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (WindowSpec w : selected) {
            ReadOnlyWindowStore<String, CalibrationTallies> store =
                    queries.windowStore(TopologyProducer.calibrationWindowStore(w));
            if (store == null) {
                continue;
            }
            try (WindowStoreIterator<CalibrationTallies> it = store.fetch(key, Instant.EPOCH,
                    Instant.now().plusSeconds(86_400L * 365))) {
                while (it.hasNext()) {
                    var kv = it.next();
                    Map<String, ReliabilityDiagram> byLabel = kv.value.byMethod().get(method);
                    if (byLabel == null) {
                        continue;
                    }
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("window", w.label());
                    row.putAll(json(CalibrationRecords.row(task, model, method, label, diagram(byLabel, label),
                            kv.key, kv.key + w.size().toMillis(), System.currentTimeMillis())));
                    out.add(row);
                }
            }
        }
        return out;
    }

    /** A row's fields by their topic names (timestamps ISO-8601). */
    static Map<String, Object> json(CalibrationMetric row) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", row.getTask());
        m.put("model", row.getModel());
        m.put("method", row.getMethod());
        m.put("label", row.getLabel());
        m.put("window_start", row.getWindowStart() == null ? null : row.getWindowStart().toString());
        m.put("window_end", row.getWindowEnd() == null ? null : row.getWindowEnd().toString());
        m.put("pairs", row.getPairs());
        m.put("ece", row.getEce());
        List<Map<String, Object>> bins = new ArrayList<>();
        for (CalibrationBin b : row.getBins()) {
            Map<String, Object> bin = new LinkedHashMap<>();
            bin.put("count", b.getCount());
            bin.put("mean_predicted", b.getMeanPredicted());
            bin.put("mean_human", b.getMeanHuman());
            bins.add(bin);
        }
        m.put("bins", bins);
        return m;
    }

    /** A window setting as configured: {@code PT1M}, {@code PT15M/PT5M}. */
    private static String spec(WindowSpec w) {
        return w.advance().equals(w.size()) ? w.size().toString() : w.size() + "/" + w.advance();
    }

    private static boolean named(WindowSpec w, String name) {
        return spec(w).equalsIgnoreCase(name.trim()) || w.name().equalsIgnoreCase(name.trim());
    }

    private String pathAndQuery() {
        String raw = uri.getRequestUri().getRawPath();
        String q = uri.getRequestUri().getRawQuery();
        return q == null ? raw : raw + "?" + q;
    }
}
