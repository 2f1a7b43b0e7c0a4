package io.labelscope.aggregator.dashboard;

import io.labelscope.platform.TopicDefinition;
import io.labelscope.platform.testing.RealKafkaTestResource;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.Topics;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The JVM's real broker and registry with the public topics created before the aggregator starts, and a fixed
 * free HTTP port for the service, so that the address it announces for interactive queries
 * ({@code application.server}) is the one it really listens on and keys it owns are answered locally.
 */
public class DashboardPlatform implements QuarkusTestResourceLifecycleManager {

    private final RealKafkaTestResource platform = new RealKafkaTestResource();

    @Override
    public Map<String, String> start() {
        List<TopicDefinition> topics = Topics.ALL.stream()
                .map(t -> new TopicDefinition(t.name(), t.compacted(), t.valueSubject(), t.valueSchema().toString()))
                .toList();
        TestPlatform.get().ensureTopics(topics, 3);
        Map<String, String> config = new HashMap<>(platform.start());
        int port = freePort();
        config.put("quarkus.http.test-port", String.valueOf(port));
        config.put("quarkus.kafka-streams.application-server", "127.0.0.1:" + port);
        return config;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        platform.stop();
    }
}
