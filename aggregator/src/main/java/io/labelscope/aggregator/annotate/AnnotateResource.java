package io.labelscope.aggregator.annotate;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.aggregator.avro.AnnotationCandidateRecord;
import io.labelscope.aggregator.rest.InteractiveQueries;
import io.labelscope.math.AnnotationPriority.Settings;
import io.labelscope.math.AnnotationPriority.Strategy;
import io.labelscope.math.Conventions;
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
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * {@code GET /api/annotate/next?task=T&n=N&strategy=S[&model=M]}: the documents that most need one more
 * annotation, the global top n over every partition and every instance of the application id, highest priority
 * first (docs/annotate-next.md's order), only priority &gt; 0. Each instance ranks the partitions it hosts
 * ({@code /api/annotate/next/part}, same parameters); the asked instance fetches every other one's part and ranks
 * their union again. A document in the global top n is in its instance's top n, so the union holds the answer.
 * Every strategy is computed here from the candidates' store ({@link AnnotationRequests#STORE}), so the other
 * strategies need nothing precomputed. While an instance does not answer the list would be partial, so the answer
 * is 503 naming it (retry), as for a key whose owner does not answer.
 */
@Path("/api/annotate")
@Produces(MediaType.APPLICATION_JSON)
public class AnnotateResource {

    static final String PART_PATH = "/api/annotate/next/part";
    /** The largest n one request may ask for. */
    static final int MAX_N = 10_000;
    /** n when the request names none. */
    static final int DEFAULT_N = 10;

    private static final CacheControl NO_STORE = CacheControl.valueOf("no-store");

    @Inject
    KafkaStreams streams;

    @Inject
    InteractiveQueries queries;

    @Inject
    AnnotateSettings settings;

    @Inject
    ObjectMapper json;

    @Context
    UriInfo uri;

    @GET
    @Path("next")
    public Response next(@QueryParam("task") String task, @QueryParam("n") String n,
                         @QueryParam("strategy") String strategy, @QueryParam("model") String model) {
        Request request;
        try {
            request = Request.of(task, n, strategy, model);
        } catch (IllegalArgumentException e) {
            return error(Response.Status.BAD_REQUEST, e.getMessage());
        }
        List<HostInfo> others = queries.instances().stream().filter(h -> !queries.isThisInstance(h)).toList();
        Map<HostInfo, CompletableFuture<HttpResponse<String>>> asked = new LinkedHashMap<>();
        String query = uri.getRequestUri().getRawQuery();
        others.forEach(h -> asked.put(h, queries.get(h, PART_PATH + (query == null ? "" : "?" + query))));
        List<Suggestion> all;
        try {
            all = new ArrayList<>(localTop(request));
        } catch (InvalidStateStoreException e) {
            return error(Response.Status.SERVICE_UNAVAILABLE, "store " + AnnotationRequests.STORE
                    + " is not queryable right now (starting or rebalancing): " + e.getMessage());
        }
        for (Map.Entry<HostInfo, CompletableFuture<HttpResponse<String>>> e : asked.entrySet()) {
            String name = e.getKey().host() + ":" + e.getKey().port();
            try {
                HttpResponse<String> r = e.getValue().get();
                if (r.statusCode() != 200) {
                    return error(Response.Status.SERVICE_UNAVAILABLE, "instance " + name + " answered HTTP "
                            + r.statusCode() + " for its part: " + r.body());
                }
                all.addAll(json.readValue(r.body(), new TypeReference<List<Suggestion>>() { }));
            } catch (ExecutionException | IOException ex) {
                return error(Response.Status.SERVICE_UNAVAILABLE, "instance " + name + " did not answer its part: "
                        + (ex instanceof ExecutionException ? ex.getCause() : ex));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return error(Response.Status.SERVICE_UNAVAILABLE, "interrupted");
            }
        }
        return Response.ok(Priorities.top(all, request.n(), settings.conventions())).cacheControl(NO_STORE).build();
    }

    /** This instance's top n (the partitions it hosts as active), which the asked instance merges. */
    @GET
    @Path("next/part")
    public Response part(@QueryParam("task") String task, @QueryParam("n") String n,
                         @QueryParam("strategy") String strategy, @QueryParam("model") String model) {
        try {
            return Response.ok(localTop(Request.of(task, n, strategy, model))).cacheControl(NO_STORE).build();
        } catch (IllegalArgumentException e) {
            return error(Response.Status.BAD_REQUEST, e.getMessage());
        } catch (InvalidStateStoreException e) {
            return error(Response.Status.SERVICE_UNAVAILABLE, "store " + AnnotationRequests.STORE
                    + " is not queryable right now: " + e.getMessage());
        }
    }

    private List<Suggestion> localTop(Request request) {
        ReadOnlyKeyValueStore<String, AnnotationCandidateRecord> store = streams.store(
                StoreQueryParameters.fromNameAndType(AnnotationRequests.STORE,
                        QueryableStoreTypes.<String, AnnotationCandidateRecord>keyValueStore()));
        try (KeyValueIterator<String, AnnotationCandidateRecord> it = store.all()) {
            return top(it, request, settings.settings(), settings.conventions());
        }
    }

    /**
     * The top n of some candidates (one instance's partitions, or a TopologyTestDriver's store): those of the
     * task (and model), scored by the strategy, ranked.
     */
    public static List<Suggestion> top(java.util.Iterator<org.apache.kafka.streams.KeyValue<String,
            AnnotationCandidateRecord>> candidates, Request request, Settings settings, Conventions conventions) {
        List<Suggestion> scored = new ArrayList<>();
        while (candidates.hasNext()) {
            AnnotationCandidateRecord c = candidates.next().value;
            if (c.getTask().equals(request.task()) && (request.model() == null || c.getModel().equals(request.model()))) {
                scored.add(Priorities.suggestion(c, request.strategy(), settings, conventions));
            }
        }
        return Priorities.top(scored, request.n(), conventions);
    }

    /** A checked request: task required, 1 ≤ n ≤ {@value #MAX_N}, a known strategy (default flip). */
    public record Request(String task, int n, Strategy strategy, String model) {

        /** @param n the text of the n parameter (default 10) */
        public static Request of(String task, String nText, String strategy, String model) {
            if (task == null || task.isBlank()) {
                throw new IllegalArgumentException("task is required (GET /api/annotate/next?task=T&n=N)");
            }
            int n;
            try {
                n = nText == null || nText.isBlank() ? DEFAULT_N : Integer.parseInt(nText.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("n must be a whole number, was '" + nText + "'");
            }
            if (n < 1 || n > MAX_N) {
                throw new IllegalArgumentException("n must be between 1 and " + MAX_N + ", was " + n);
            }
            Strategy s = strategy == null || strategy.isBlank() ? Strategy.defaultStrategy()
                    : Strategy.fromWireName(strategy);
            return new Request(task, n, s, model == null || model.isBlank() ? null : model);
        }
    }

    private static Response error(Response.Status status, String why) {
        return Response.status(status).entity(Map.of("error", why)).build();
    }
}
