package io.labelscope.aggregator.rest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

class AdvertisedAddressTest {

    @Test
    void portZeroIsRefusedWithWhatToDo() {
        assertThatThrownBy(() -> AdvertisedAddress.parse(Optional.of("127.0.0.1:0")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("quarkus.kafka-streams.application-server is '127.0.0.1:0'")
                .hasMessageContaining("port 0 cannot be advertised")
                .hasMessageContaining("quarkus.http.port");
    }

    @Test
    void malformedAddressesAreRefused() {
        assertThatThrownBy(() -> AdvertisedAddress.parse(Optional.of("localhost")))
                .hasMessageContaining("expected host:port");
        assertThatThrownBy(() -> AdvertisedAddress.parse(Optional.of("localhost:http")))
                .hasMessageContaining("not a number");
        assertThatThrownBy(() -> AdvertisedAddress.parse(Optional.of("localhost:70000")))
                .hasMessageContaining("out of range");
    }

    @Test
    void blankIsASingleInstanceAndHostPortIsParsed() {
        assertThat(AdvertisedAddress.parse(Optional.empty())).isEmpty();
        assertThat(AdvertisedAddress.parse(Optional.of(" "))).isEmpty();
        assertThat(AdvertisedAddress.parse(Optional.of("127.0.0.1:19300")))
                .contains(new HostInfo("127.0.0.1", 19300));
    }
}
