package io.labelscope.aggregator.dashboard;

import io.labelscope.aggregator.PlatformWithTopics;
import io.labelscope.platform.testing.ChildProcesses;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link PlatformWithTopics} (the JVM's real broker and registry, public topics created first), and a fixed
 * free HTTP port for the service, so that the address it announces for interactive queries
 * ({@code application.server}) is the one it really listens on and keys it owns are answered locally.
 */
public class DashboardPlatform implements QuarkusTestResourceLifecycleManager {

    private final PlatformWithTopics platform = new PlatformWithTopics();

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(platform.start());
        int port;
        try {
            port = ChildProcesses.freePort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        config.put("quarkus.http.test-port", String.valueOf(port));
        config.put("quarkus.kafka-streams.application-server", "127.0.0.1:" + port);
        return config;
    }

    @Override
    public void stop() {
        platform.stop();
    }
}
