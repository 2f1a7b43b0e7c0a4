package io.labelscope.platform;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;

/** Creates the public topics and registers their value schemas; harmless to run again. */
public final class TopicAdmin {

    private TopicAdmin() {
    }

    /**
     * Creates each topic that does not exist yet and registers each value subject.
     *
     * @param clientProperties extra client settings (security, for a real cluster); may be empty
     * @return the names of the topics this call created
     */
    public static List<String> ensure(String bootstrapServers, Map<String, Object> clientProperties,
            RegistryClient registry, List<TopicDefinition> topics, int partitions) throws Exception {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        List<String> created = new ArrayList<>();
        try (Admin admin = Admin.create(props)) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = new ArrayList<>();
            for (TopicDefinition topic : topics) {
                if (!existing.contains(topic.name())) {
                    Map<String, String> config = new HashMap<>();
                    if (topic.compacted()) {
                        config.put(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
                    }
                    missing.add(new NewTopic(topic.name(), partitions, (short) 1).configs(config));
                    created.add(topic.name());
                }
            }
            try {
                admin.createTopics(missing).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                    throw e;
                }
            }
        }
        for (TopicDefinition topic : topics) {
            if (topic.valueSubject() != null) {
                registry.register(topic.valueSubject(), topic.valueSchema());
            }
        }
        return created;
    }
}
