package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.Topics;
import picocli.CommandLine;

@ExtendWith(RealKafka.class)
class TopicsCommandTest {

    @Test
    void ensureCreatesEveryTopicWithItsCleanupPolicyAndIsHarmlessTwice(TestPlatform platform, @TempDir Path dir)
            throws Exception {
        // Client settings pass through from a properties file, as TLS/SASL settings would.
        Path clientConfig = dir.resolve("client.properties");
        Files.writeString(clientConfig, "client.id=labelscope-topics-test\nrequest.timeout.ms=20000\n");
        String[] args = {"topics", "ensure", "--bootstrap-servers", platform.bootstrapServers(), "--registry-url",
            platform.registryUrl(), "--kafka-config", clientConfig.toString()};
        StringWriter out = new StringWriter();
        CommandLine cli = Labelscope.commandLine();
        cli.setOut(new PrintWriter(out));
        assertThat(cli.execute(args)).isZero();

        Properties props = new Properties();
        props.put("bootstrap.servers", platform.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
            List<String> expected = new java.util.ArrayList<>(Topics.ALL.stream().map(Topics.TopicSpec::name).toList());
            expected.add(Topics.TASKS);
            assertThat(admin.listTopics().names().get()).containsAll(expected);
            Map<ConfigResource, org.apache.kafka.clients.admin.Config> configs = admin.describeConfigs(List.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, Topics.TASKS),
                    new ConfigResource(ConfigResource.Type.TOPIC, Topics.DISTRIBUTIONS),
                    new ConfigResource(ConfigResource.Type.TOPIC, Topics.DOCUMENTS))).all().get();
            assertThat(configs).allSatisfy((resource, config) -> {
                ConfigEntry policy = config.get("cleanup.policy");
                assertThat(policy.value()).as(resource.name())
                        .isEqualTo(resource.name().equals(Topics.DOCUMENTS) ? "delete" : "compact");
            });
        }
        assertThat(platform.registry().globalCompatibility()).isEqualTo("BACKWARD");

        StringWriter again = new StringWriter();
        CommandLine second = Labelscope.commandLine();
        second.setOut(new PrintWriter(again));
        assertThat(second.execute(args)).isZero();
        assertThat(again.toString()).contains("topics: all present");
    }
}
