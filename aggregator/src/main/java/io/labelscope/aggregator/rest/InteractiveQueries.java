package io.labelscope.aggregator.rest;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.Response;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreType;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * Answers a key's query on the instance that owns the key: Kafka Streams metadata says which instance hosts
 * the key's partition; if that is another instance, the request is forwarded to its REST API (same path) and
 * its answer returned as is. One hop only: a forwarded request is always answered locally.
 */
@ApplicationScoped
public class InteractiveQueries {

    static final String FORWARDED_HEADER = "X-Labelscope-Forwarded";

    @Inject
    KafkaStreams streams;

    @ConfigProperty(name = "quarkus.kafka-streams.application-server")
    Optional<String> applicationServer;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * @param pathAndQuery this request's path and query, to repeat on the owning instance
     * @param local        the answer from this instance's store (given the store)
     */
    public <S> Response query(String store, QueryableStoreType<S> type, String key, String pathAndQuery,
                              boolean forwarded, Function<S, Response> local) {
        // Without an advertised address (quarkus.kafka-streams.application-server) this is a single instance:
        // Kafka Streams keeps no metadata then, and every key is local.
        if (!forwarded && applicationServer.filter(a -> !a.isBlank()).isPresent()) {
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
            if (!isThisInstance(owner)) {
                return forward(owner, pathAndQuery);
            }
        }
        try {
            S view = streams.store(StoreQueryParameters.fromNameAndType(store, type));
            return local.apply(view);
        } catch (InvalidStateStoreException e) {
            return unavailable("store " + store + " is not queryable right now: " + e.getMessage());
        }
    }

    private boolean isThisInstance(HostInfo owner) {
        if (owner == null || owner.equals(HostInfo.unavailable()) || applicationServer.isEmpty()) {
            return true;
        }
        return applicationServer.get().equals(owner.host() + ":" + owner.port());
    }

    private Response forward(HostInfo owner, String pathAndQuery) {
        URI uri = URI.create("http://" + owner.host() + ":" + owner.port() + pathAndQuery);
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
                    .header(FORWARDED_HEADER, "1").GET().build(), HttpResponse.BodyHandlers.ofString());
            return Response.status(r.statusCode()).entity(r.body())
                    .type(r.headers().firstValue("content-type").orElse("application/json")).build();
        } catch (IOException e) {
            return unavailable("instance " + owner + " that owns the key did not answer: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unavailable("interrupted");
        }
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
