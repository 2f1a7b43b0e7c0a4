package io.labelscope.aggregator.rest;

import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.interceptor.Interceptor;
import org.apache.kafka.streams.state.HostInfo;
import org.eclipse.microprofile.config.inject.ConfigProperty;

import java.util.Optional;

/**
 * The address this instance advertises to the other instances of its application id
 * ({@code quarkus.kafka-streams.application-server}, Kafka Streams' {@code application.server}): where they
 * forward queries for the keys it owns and fetch its part of the dashboard's overview. Empty: a single instance
 * (every key is local).
 *
 * <p>The address is checked when the service starts, and a wrong one stops the start with an error that says
 * what to fix. Port 0 is refused: the default address is {@code ${quarkus.http.host}:${quarkus.http.port}}, and
 * with {@code quarkus.http.port=0} (a random port) the others would be told to call port 0, so every forwarded
 * query would fail while this instance looked healthy.
 */
@ApplicationScoped
public class AdvertisedAddress {

    static final String PROPERTY = "quarkus.kafka-streams.application-server";

    @ConfigProperty(name = PROPERTY)
    Optional<String> configured;

    private Optional<HostInfo> address;

    @PostConstruct
    void parse() {
        address = parse(configured);
    }

    /** Runs before Kafka Streams is started by Quarkus, so a wrong address never joins the group. */
    void checkOnStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) {
        address();
    }

    /** This instance's advertised address; empty for a single instance. */
    public Optional<HostInfo> address() {
        return address;
    }

    /** Whether {@code host} is this instance (a single instance is every host). */
    public boolean isThisInstance(HostInfo host) {
        return address.isEmpty() || address.get().equals(host);
    }

    /**
     * @param value {@code host:port}, blank or absent
     * @throws IllegalArgumentException naming the setting and what is wrong with its value
     */
    static Optional<HostInfo> parse(Optional<String> value) {
        if (value.isEmpty() || value.get().isBlank()) {
            return Optional.empty();
        }
        String v = value.get().trim();
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new IllegalArgumentException(PROPERTY + " is '" + v + "': expected host:port, the address of "
                    + "this instance's REST API that the other instances can reach (or empty for a single instance)");
        }
        String host = v.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(v.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(PROPERTY + " is '" + v + "': the port is not a number");
        }
        if (port == 0) {
            throw new IllegalArgumentException(PROPERTY + " is '" + v + "': port 0 cannot be advertised (the other "
                    + "instances would forward queries to port 0). Give quarkus.http.port a fixed port, or set "
                    + PROPERTY + " to the port this instance really listens on, or to empty for a single instance");
        }
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(PROPERTY + " is '" + v + "': port " + port + " is out of range");
        }
        return Optional.of(new HostInfo(host, port));
    }
}
