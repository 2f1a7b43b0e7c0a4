package io.labelscope.aggregator.rest;

import io.labelscope.aggregator.metrics.WindowSpecs;

import io.labelscope.aggregator.Keys;
import io.labelscope.aggregator.TopologyProducer;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.schemas.Configuration;
import jakarta.inject.Inject;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Interactive queries: a document's distributions and a task/model's metrics, from whichever instance owns
 * them. {@code GET /documents/{id}[?version=]}, {@code GET /metrics/alignment?task=&model=[&version=]},
 * {@code GET /metrics/spikiness?task=&model=[&version=]}. The metrics are those of one configuration (model and
 * task version, {@link TaskVersions}).
 */
@Path("/")
@Produces(MediaType.APPLICATION_JSON)
public class QueryResource {

    @Inject
    InteractiveQueries queries;

    @Inject
    WindowSpecs windows;

    @Inject
    TaskVersions versions;

    @Context
    UriInfo uri;

    @GET
    @Path("documents/{id}")
    public Response document(@PathParam("id") String id, @QueryParam("version") String version,
                             @HeaderParam(InteractiveQueries.FORWARDED_HEADER) String forwarded) {
        return queries.query(TopologyProducer.DOCUMENTS_STORE, QueryableStoreTypes.<String, DocumentStateRecord>keyValueStore(),
                id, pathAndQuery(), forwarded != null, store -> {
                    DocumentStateRecord state = store.get(id);
                    if (state == null) {
                        return Response.status(Response.Status.NOT_FOUND)
                                .entity(Map.of("error", "no record of document " + id)).build();
                    }
                    return Response.ok(documentJson(state, version)).build();
                });
    }

    @GET
    @Path("metrics/alignment")
    public Response alignment(@QueryParam("task") String task, @QueryParam("model") String model,
                              @QueryParam("version") String version,
                              @HeaderParam(InteractiveQueries.FORWARDED_HEADER) String forwarded) {
        Configuration configuration = configuration(task, model, version);
        String key = Keys.taskModel(task, configuration.toString());
        return queries.query(TopologyProducer.ALIGNMENT_STORE,
                QueryableStoreTypes.<String, AlignmentTallies>keyValueStore(), key, pathAndQuery(),
                forwarded != null, store -> {
                    AlignmentTallies allTime = store.get(key);
                    Map<String, Object> body = header(task, configuration);
                    body.put("all_time", allTime == null ? Map.of() : MetricViews.alignment(allTime));
                    body.put("windows", this.<AlignmentTallies>windowed(key,
                            TopologyProducer::alignmentWindowStore, MetricViews::alignment));
                    body.put("note", "NLL and L1 alone reward a constant distribution (paper A.6): read them "
                            + "beside example-F1.");
                    return Response.ok(body).build();
                });
    }

    @GET
    @Path("metrics/spikiness")
    public Response spikiness(@QueryParam("task") String task, @QueryParam("model") String model,
                              @QueryParam("version") String version,
                              @HeaderParam(InteractiveQueries.FORWARDED_HEADER) String forwarded) {
        Configuration configuration = configuration(task, model, version);
        String key = Keys.taskModel(task, configuration.toString());
        return queries.query(TopologyProducer.SPIKINESS_STORE,
                QueryableStoreTypes.<String, SpikinessTallies>keyValueStore(), key, pathAndQuery(),
                forwarded != null, store -> {
                    SpikinessTallies allTime = store.get(key);
                    Map<String, Object> body = header(task, configuration);
                    body.put("all_time", allTime == null ? Map.of() : MetricViews.spikiness(allTime));
                    body.put("windows", this.<SpikinessTallies>windowed(key,
                            TopologyProducer::spikinessWindowStore, MetricViews::spikiness));
                    return Response.ok(body).build();
                });
    }

    /**
     * The windows of one key from this instance's window stores (co-partitioned with the all-time store, so the
     * instance that owns the all-time value owns the windows too).
     */
    private <T> List<Map<String, Object>> windowed(String key, Function<io.labelscope.aggregator.metrics.WindowSpec,
            String> storeName, Function<T, Map<String, Object>> view) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (io.labelscope.aggregator.metrics.WindowSpec w : windows.specs()) {
            ReadOnlyWindowStore<String, T> store = queries.windowStore(storeName.apply(w));
            if (store == null) {
                continue;
            }
            try (WindowStoreIterator<T> it = store.fetch(key, Instant.EPOCH, Instant.now().plusSeconds(86_400L * 365))) {
                while (it.hasNext()) {
                    var kv = it.next();
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("window", w.label());
                    m.put("window_start", Instant.ofEpochMilli(kv.key).toString());
                    m.put("window_end", Instant.ofEpochMilli(kv.key + w.size().toMillis()).toString());
                    m.put("values", view.apply(kv.value));
                    out.add(m);
                }
            }
        }
        return out;
    }

    private static Map<String, Object> documentJson(DocumentStateRecord state, String version) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("document_id", state.getDocumentId());
        body.put("task", state.getTask());
        body.put("labels", state.getLabels());
        body.put("annotators", state.getAnnotations().size());
        List<Object> distributions = new ArrayList<>();
        List<Object> pending = new ArrayList<>();
        for (RunRecord run : state.getRuns()) {
            if (!TaskVersions.selects(version, run.getTaskVersion())) {
                continue;
            }
            if (run.getEmitted() != null) {
                distributions.add(DistributionJson.of(run.getEmitted().getDistribution()));
            } else {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("model", run.getModel());
                p.put("run_id", run.getRunId());
                p.put("task_version", run.getTaskVersion());
                p.put("methods", run.getMethods());
                p.put("steps_received", run.getSteps().size());
                p.put("steps_total", run.getGeneration() == null ? null : run.getGeneration().getStepsTotal());
                p.put("generation_received", run.getGeneration() != null);
                p.put("unary_received", run.getUnary() != null);
                p.put("binary_received", run.getBinary() != null);
                pending.add(p);
            }
        }
        body.put("distributions", distributions);
        body.put("pending_runs", pending);
        return body;
    }

    private Map<String, Object> header(String task, Configuration configuration) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("task", task);
        body.put("model", configuration.model());
        body.put("version", configuration.taskVersion());
        body.put("versions", versions.of(task, configuration.model()));
        return body;
    }

    /** The configuration a metrics request names (see {@link TaskVersions#configuration}). */
    private Configuration configuration(String task, String model, String version) {
        if (task == null || task.isBlank() || model == null || model.isBlank()) {
            throw new BadRequestException("task and model are required query parameters");
        }
        return versions.configuration(task, model, version);
    }

    private String pathAndQuery() {
        String raw = uri.getRequestUri().getRawPath();
        String q = uri.getRequestUri().getRawQuery();
        return q == null ? raw : raw + "?" + q;
    }
}
