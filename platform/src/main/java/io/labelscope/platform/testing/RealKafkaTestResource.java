package io.labelscope.platform.testing;

import java.util.HashMap;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

/**
 * Quarkus test resource: points a Quarkus service under test at the JVM's shared {@link TestPlatform}.
 * Use with {@code @QuarkusTestResource(RealKafkaTestResource.class)} (or {@code @WithTestResource}).
 */
public final class RealKafkaTestResource implements QuarkusTestResourceLifecycleManager {

    @Override
    public Map<String, String> start() {
        TestPlatform platform = TestPlatform.get();
        Map<String, String> config = new HashMap<>();
        config.put("kafka.bootstrap.servers", platform.bootstrapServers());
        config.put("quarkus.kafka-streams.bootstrap-servers", platform.bootstrapServers());
        config.put("labelscope.registry.url", platform.registryUrl());
        config.put("mp.messaging.connector.smallrye-kafka.apicurio.registry.url",
                platform.registryUrl() + "/apis/registry/v2");
        config.put("kafka.apicurio.registry.url", platform.registryUrl() + "/apis/registry/v2");
        return config;
    }

    @Override
    public void stop() {
        // Shared across test classes; it stops when the JVM exits.
    }
}
