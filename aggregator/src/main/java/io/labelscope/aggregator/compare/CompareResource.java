package io.labelscope.aggregator.compare;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.aggregator.avro.ComparedDocumentRecord;
import io.labelscope.aggregator.rest.InteractiveQueries;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.CacheControl;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Paired comparison of two configurations of a task, live (issue #17 item 3):
 * <ul>
 *   <li>{@code GET /api/compare?task=T&a=A&b=B[&method=M]}: per method, the documents both A and B scored with
 *       annotators, and per metric (NLL, L1, example-F1) the mean of A − B with its 95 % paired t interval; and
 *       the task's configurations with their annotated documents (without {@code a} and {@code b}: only
 *       those, for choosing);</li>
 *   <li>{@code GET /api/compare/part?…}: the same parameters, this instance's sums alone
 *       ({@link ComparisonSums}), which the asked instance gathers from every other and adds.</li>
 * </ul>
 * Scatter-gather rather than forwarding to one owner: a task's documents lie on every partition.
 */
@Path("/api/compare")
@Produces(MediaType.APPLICATION_JSON)
public class CompareResource {

    static final String PART_PATH = "/api/compare/part";
    private static final CacheControl NO_STORE = CacheControl.valueOf("no-store");

    @Inject
    KafkaStreams streams;

    @Inject
    InteractiveQueries queries;

    @Inject
    ObjectMapper json;

    @Context
    UriInfo uri;

    @GET
    public Response compare(@QueryParam("task") String task, @QueryParam("a") String a,
                            @QueryParam("b") String b, @QueryParam("method") String method) {
        Request request;
        try {
            request = Request.of(task, a, b, method);
        } catch (IllegalArgumentException e) {
            return error(Response.Status.BAD_REQUEST, e.getMessage());
        }
        ComparisonSums sums;
        try {
            sums = local(request);
        } catch (InvalidStateStoreException e) {
            return error(Response.Status.SERVICE_UNAVAILABLE, "store " + ComparedDocuments.STORE
                    + " is not queryable right now: " + e.getMessage());
        }
        List<String> unreachable = new ArrayList<>();
        String query = uri.getRequestUri().getRawQuery();
        for (Map<String, Object> part : otherParts(PART_PATH + "?" + query, unreachable)) {
            sums = sums.plus(ComparisonSums.fromJson(part));
        }
        return Response.ok(ComparisonView.of(request, sums, unreachable)).cacheControl(NO_STORE).build();
    }

    @GET
    @Path("part")
    public Response part(@QueryParam("task") String task, @QueryParam("a") String a,
                         @QueryParam("b") String b, @QueryParam("method") String method) {
        try {
            return Response.ok(local(Request.of(task, a, b, method)).toJson()).cacheControl(NO_STORE).build();
        } catch (IllegalArgumentException e) {
            return error(Response.Status.BAD_REQUEST, e.getMessage());
        } catch (InvalidStateStoreException e) {
            return error(Response.Status.SERVICE_UNAVAILABLE, e.getMessage());
        }
    }

    /** The parameters, checked: a task, and A and B together or neither. */
    record Request(String task, Configuration a, Configuration b, String method) {

        static Request of(String task, String a, String b, String method) {
            if (task == null || task.isBlank()) {
                throw new IllegalArgumentException("task is a required query parameter");
            }
            if ((a == null || a.isBlank()) != (b == null || b.isBlank())) {
                throw new IllegalArgumentException("a and b go together: both configurations (MODEL or "
                        + "MODEL@VERSION), or neither to list the task's configurations");
            }
            return new Request(task, a == null || a.isBlank() ? null : Configuration.parse(a),
                    b == null || b.isBlank() ? null : Configuration.parse(b),
                    method == null || method.isBlank() ? null : method);
        }
    }

    /** This instance's sums: its active partitions' documents of the task. */
    private ComparisonSums local(Request request) {
        return ComparisonSums.of(streams.store(StoreQueryParameters.fromNameAndType(ComparedDocuments.STORE,
                QueryableStoreTypes.<String, ComparedDocumentRecord>keyValueStore())), request);
    }

    /** Every other instance's part (asked at once, each bounded by the forward timeout); the silent named. */
    private List<Map<String, Object>> otherParts(String pathAndQuery, List<String> unreachable) {
        Map<HostInfo, CompletableFuture<HttpResponse<String>>> asked = new LinkedHashMap<>();
        queries.instances().stream().filter(h -> !queries.isThisInstance(h))
                .forEach(h -> asked.put(h, queries.get(h, pathAndQuery)));
        List<Map<String, Object>> parts = new ArrayList<>();
        asked.forEach((host, answer) -> {
            String name = host.host() + ":" + host.port();
            try {
                HttpResponse<String> r = answer.get();
                if (r.statusCode() != 200) {
                    unreachable.add(name + " (HTTP " + r.statusCode() + ")");
                } else {
                    parts.add(json.readValue(r.body(), new TypeReference<Map<String, Object>>() { }));
                }
            } catch (ExecutionException | IOException e) {
                unreachable.add(name + " (" + (e instanceof ExecutionException ? e.getCause() : e) + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                unreachable.add(name + " (interrupted)");
            }
        });
        return parts;
    }

    private static Response error(Response.Status status, String why) {
        return Response.status(status).entity(Map.of("error", why)).build();
    }
}
