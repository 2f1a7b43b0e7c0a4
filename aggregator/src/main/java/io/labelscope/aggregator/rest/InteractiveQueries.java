package io.labelscope.aggregator.rest;

import jakarta.annotation.PostConstruct;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreType;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;

/**
 * Answers a key's query on the instance that owns the key: Kafka Streams metadata says which instance hosts
 * the key's partition; if that is another instance, the request is forwarded to its REST API (same path) and
 * its answer returned as is. One hop only: a forwarded request is always answered locally.
 *
 * <p>Settings: {@code labelscope.aggregator.forward-timeout} (default 10 s) bounds a forwarded request,
 * connection included; {@code labelscope.aggregator.standby-reads} (default false) lets an instance that keeps a
 * standby replica of the key's partition ({@code kafka-streams.num.standby.replicas} &gt; 0) answer from it when
 * the active instance cannot answer (it died and the group has not noticed yet, or its store is being restored).
 * Such an answer may be a commit interval or more behind and says so in the {@value #STALE_HEADER} header.
 */
@ApplicationScoped
public class InteractiveQueries {

    static final String FORWARDED_HEADER = "X-Labelscope-Forwarded";
    /** Set on an answer read from a standby replica: it may lag behind the active task. */
    static final String STALE_HEADER = "X-Labelscope-Stale";

    @Inject
    KafkaStreams streams;

    @Inject
    AdvertisedAddress advertised;

    @ConfigProperty(name = "labelscope.aggregator.forward-timeout", defaultValue = "PT10S")
    Duration forwardTimeout;

    @ConfigProperty(name = "labelscope.aggregator.standby-reads", defaultValue = "false")
    boolean standbyReads;

    private HttpClient http;

    @PostConstruct
    void createClient() {
        http = HttpClient.newBuilder().connectTimeout(forwardTimeout).build();
    }

    /**
     * @param pathAndQuery this request's path and query, to repeat on the owning instance
     * @param local        the answer from this instance's store (given the store)
     */
    public <S> Response query(String store, QueryableStoreType<S> type, String key, String pathAndQuery,
                              boolean forwarded, Function<S, Response> local) {
        // Without an advertised address (quarkus.kafka-streams.application-server) this is a single instance:
        // Kafka Streams keeps no metadata then, and every key is local.
        if (forwarded || advertised.address().isEmpty()) {
            return answerLocally(StoreQueryParameters.fromNameAndType(store, type), local);
        }
        KeyQueryMetadata meta;
        try {
            meta = streams.queryMetadataForKey(store, key, Serdes.String().serializer());
        } catch (IllegalStateException e) {
            return unavailable("Kafka Streams is not running: " + e.getMessage());
        }
        if (meta == null || meta == KeyQueryMetadata.NOT_AVAILABLE) {
            return unavailable("no instance hosts store " + store + " yet (starting or rebalancing)");
        }
        HostInfo owner = meta.activeHost();
        if (owner == null || owner.equals(HostInfo.unavailable())) {
            return unavailable("no instance is active for " + store + " partition " + meta.partition()
                    + " (rebalancing)");
        }
        Response answer = advertised.isThisInstance(owner)
                ? answerLocally(StoreQueryParameters.fromNameAndType(store, type), local)
                : forward(owner, pathAndQuery);
        if (answer.getStatus() != Response.Status.SERVICE_UNAVAILABLE.getStatusCode() || !standbyReads
                || meta.standbyHosts().stream().noneMatch(advertised::isThisInstance)) {
            return answer;
        }
        Response stale = answerLocally(StoreQueryParameters.fromNameAndType(store, type).enableStaleStores()
                .withPartition(meta.partition()), local);
        if (stale.getStatus() == Response.Status.SERVICE_UNAVAILABLE.getStatusCode()) {
            return answer;
        }
        return Response.fromResponse(stale).header(STALE_HEADER, "standby replica; active instance " + owner
                + " did not answer").build();
    }

    private <S> Response answerLocally(StoreQueryParameters<S> parameters, Function<S, Response> local) {
        try {
            return local.apply(streams.store(parameters));
        } catch (InvalidStateStoreException e) {
            return unavailable("store " + parameters.storeName() + " is not queryable right now: " + e.getMessage());
        }
    }

    private Response forward(HostInfo owner, String pathAndQuery) {
        try {
            HttpResponse<String> r = get(owner, pathAndQuery).get();
            return Response.status(r.statusCode()).entity(r.body())
                    .type(r.headers().firstValue("content-type").orElse("application/json")).build();
        } catch (ExecutionException e) {
            return unavailable("instance " + owner + " that owns the key did not answer within " + forwardTimeout
                    + ": " + e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unavailable("interrupted");
        }
    }

    /**
     * GET of {@code pathAndQuery} on another instance, marked as forwarded (it answers from its own stores),
     * bounded by the forward timeout; the future fails with the reason when the instance does not answer.
     */
    public CompletableFuture<HttpResponse<String>> get(HostInfo instance, String pathAndQuery) {
        URI uri = URI.create("http://" + instance.host() + ":" + instance.port() + pathAndQuery);
        return http.sendAsync(HttpRequest.newBuilder(uri).timeout(forwardTimeout)
                .header(FORWARDED_HEADER, "1").GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Every instance of this application id that Kafka Streams knows, this one included (empty when single). */
    public List<HostInfo> instances() {
        if (advertised.address().isEmpty()) {
            return List.of();
        }
        try {
            return streams.metadataForAllStreamsClients().stream().map(StreamsMetadata::hostInfo).distinct()
                    .toList();
        } catch (IllegalStateException e) {
            return List.of(advertised.address().get());
        }
    }

    public boolean isThisInstance(HostInfo host) {
        return advertised.isThisInstance(host);
    }

    /** This instance's advertised host:port, or "single" without one. */
    public String advertisedName() {
        return advertised.address().map(h -> h.host() + ":" + h.port()).orElse("single");
    }

    /** This instance's window store, or null while it is not queryable. */
    public <T> org.apache.kafka.streams.state.ReadOnlyWindowStore<String, T> windowStore(String name) {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(name,
                    org.apache.kafka.streams.state.QueryableStoreTypes.<String, T>windowStore()));
        } catch (InvalidStateStoreException e) {
            return null;
        }
    }

    static Response unavailable(String why) {
        return Response.status(Response.Status.SERVICE_UNAVAILABLE).entity(java.util.Map.of("error", why)).build();
    }
}
