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

    public static final int PARTITIONS = 3;

    private final RealKafkaTestResource platform = new RealKafkaTestResource();

    @Override
    public Map<String, String> start() {
        createPublicTopics(TestPlatform.get());
        return platform.start();
    }

    /** Every public topic with its value subject registered, {@link #PARTITIONS} partitions each. */
    public static void createPublicTopics(TestPlatform shared) {
        List<TopicDefinition> topics = Topics.ALL.stream()
                .map(t -> new TopicDefinition(t.name(), t.compacted(), t.valueSubject(), t.valueSchema().toString()))
                .toList();
        shared.ensureTopics(topics, PARTITIONS);
    }

    @Override
    public void stop() {
        platform.stop();
    }
}
