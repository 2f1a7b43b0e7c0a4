package io.labelscope.aggregator.dashboard;

import io.labelscope.aggregator.TopologyProducer;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.rest.InteractiveQueries;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.CacheControl;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;

import java.util.Map;

/**
 * What the dashboard (module {@code labelscope-dashboard}, served at {@code /}) reads besides the metrics
 * endpoints of {@code QueryResource}:
 * <ul>
 *   <li>{@code GET /api/overview}: task/model pairs, document counts, recent documents, throughput and lag, of
 *       every instance of the application id;</li>
 *   <li>{@code GET /api/overview/part}: the same of this instance alone (its partitions), which the others
 *       fetch and merge;</li>
 *   <li>{@code GET /api/documents/{id}/steps}: every step's distribution of every run of a document, beside the
 *       human distribution and each method's distribution (answered by the instance that owns the document).</li>
 * </ul>
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class DashboardResource {

    /** Same header as {@code InteractiveQueries}: a forwarded request is answered locally. */
    static final String FORWARDED_HEADER = "X-Labelscope-Forwarded";

    private static final CacheControl NO_STORE = CacheControl.valueOf("no-store");

    @Inject
    Overview overview;

    @Inject
    InteractiveQueries queries;

    @Context
    UriInfo uri;

    @GET
    @Path("overview")
    public Response overview() {
        return Response.ok(overview.current()).cacheControl(NO_STORE).build();
    }

    /** This instance's part of the overview (what other instances merge into theirs). */
    @GET
    @Path("overview/part")
    public Response overviewPart() {
        return Response.ok(overview.localPart()).cacheControl(NO_STORE).build();
    }

    @GET
    @Path("documents/{id}/steps")
    public Response steps(@PathParam("id") String id, @QueryParam("version") String version,
                          @HeaderParam(FORWARDED_HEADER) String forwarded) {
        String raw = uri.getRequestUri().getRawPath();
        String q = uri.getRequestUri().getRawQuery();
        return queries.query(TopologyProducer.DOCUMENTS_STORE,
                QueryableStoreTypes.<String, DocumentStateRecord>keyValueStore(), id, q == null ? raw : raw + "?" + q,
                forwarded != null, store -> {
                    DocumentStateRecord state = store.get(id);
                    if (state == null) {
                        return Response.status(Response.Status.NOT_FOUND)
                                .entity(Map.of("error", "no record of document " + id)).build();
                    }
                    return Response.ok(DashboardViews.steps(state, version)).cacheControl(NO_STORE).build();
                });
    }
}
