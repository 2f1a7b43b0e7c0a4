package io.labelscope.aggregator;

import io.labelscope.platform.TopicDefinition;
import io.labelscope.platform.testing.RealKafkaTestResource;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.Topics;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.util.List;
import java.util.Map;

/**
 * The shared real broker and registry (platform's {@link RealKafkaTestResource}) with the public topics created
 * before the service starts, as {@code ./labelscope platform up} creates them.
 */
public class PlatformWithTopics implements QuarkusTestResourceLifecycleManager {

    static final int PARTITIONS = 3;

    private final RealKafkaTestResource platform = new RealKafkaTestResource();

    @Override
    public Map<String, String> start() {
        List<TopicDefinition> topics = Topics.ALL.stream()
                .map(t -> new TopicDefinition(t.name(), t.compacted(), t.valueSubject(), t.valueSchema().toString()))
                .toList();
        TestPlatform.get().ensureTopics(topics, PARTITIONS);
        return platform.start();
    }

    @Override
    public void stop() {
        platform.stop();
    }
}
