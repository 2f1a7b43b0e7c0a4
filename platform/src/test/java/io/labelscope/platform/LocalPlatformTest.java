package io.labelscope.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code labelscope platform up|down|status} on real processes, on ports of its own. */
class LocalPlatformTest {

    static final String SCHEMA = "{\"type\": \"record\", \"name\": \"Probe\", \"namespace\": \"test\","
            + " \"fields\": [{\"name\": \"id\", \"type\": \"string\"}]}";

    @TempDir
    Path home;

    private LocalPlatform platform;

    @AfterEach
    void stopWhateverIsLeft() throws Exception {
        if (platform != null) {
            platform.down();
        }
    }

    @Test
    void upStartsARealBrokerAndRegistryIsIdempotentAndDownStopsExactlyThem() throws Exception {
        PlatformSettings settings = new PlatformSettings(home, "127.0.0.1", freePort(), freePort(), freePort(), 2);
        platform = new LocalPlatform(settings);
        List<TopicDefinition> topics = List.of(
                new TopicDefinition("probe-input", false, "probe-input-value", SCHEMA),
                new TopicDefinition("probe-table", true, null, null));

        LocalPlatform.UpReport first = platform.up(topics, line -> { });
        assertThat(first.started()).containsExactly(LocalPlatform.KAFKA, LocalPlatform.REGISTRY);
        assertThat(first.topicsCreated()).containsExactlyInAnyOrder("probe-input", "probe-table");

        List<LocalPlatform.ServiceStatus> running = platform.status();
        assertThat(running).allSatisfy(s -> assertThat(s.alive()).as(s.name()).isTrue());
        List<ProcessHandle> processes = running.stream()
                .map(s -> ProcessHandle.of(s.pid().orElseThrow()).orElseThrow()).toList();

        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
            assertThat(admin.listTopics().names().get()).contains("probe-input", "probe-table");
            assertThat(admin.describeTopics(List.of("probe-input")).allTopicNames().get()
                    .get("probe-input").partitions()).hasSize(2);
        }
        RegistryClient registry = new RegistryClient(settings.registryUrl());
        assertThat(registry.globalCompatibility()).isEqualTo("BACKWARD");
        assertThat(registry.schemaById(registry.register("probe-input-value", SCHEMA))).contains("Probe");

        LocalPlatform.UpReport second = platform.up(topics, line -> { });
        assertThat(second.started()).isEmpty();
        assertThat(second.alreadyRunning()).containsExactly(LocalPlatform.KAFKA, LocalPlatform.REGISTRY);
        assertThat(second.topicsCreated()).isEmpty();
        assertThat(platform.status()).extracting(s -> s.pid().orElseThrow())
                .containsExactlyElementsOf(running.stream().map(s -> s.pid().orElseThrow()).toList());

        assertThat(platform.down()).containsExactlyInAnyOrder(LocalPlatform.KAFKA, LocalPlatform.REGISTRY);
        assertThat(processes).allSatisfy(p -> assertThat(p.isAlive()).isFalse());
        assertThat(platform.status()).allSatisfy(s -> assertThat(s.alive()).isFalse());
        assertThat(platform.down()).isEmpty();
    }

    @Test
    void settingsComeFromTheEnvironmentAndBadPortsAreNamed() {
        PlatformSettings defaults = PlatformSettings.from(Map.of());
        assertThat(defaults.bootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(defaults.registryUrl()).isEqualTo("http://127.0.0.1:8081");
        PlatformSettings custom = PlatformSettings.from(Map.of(PlatformSettings.ENV_KAFKA_PORT, "19092",
                PlatformSettings.ENV_REGISTRY_PORT, "18081"));
        assertThat(custom.bootstrapServers()).isEqualTo("127.0.0.1:19092");
        assertThat(custom.registryUrl()).isEqualTo("http://127.0.0.1:18081");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PlatformSettings.from(
                Map.of(PlatformSettings.ENV_KAFKA_PORT, "90000")))
                .hasMessageContaining("LABELSCOPE_KAFKA_PORT=90000");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PlatformSettings.from(
                Map.of(PlatformSettings.ENV_REGISTRY_PORT, "eighty")))
                .hasMessageContaining("LABELSCOPE_REGISTRY_PORT=eighty is not a number");
        assertThat(defaults.logMaxFileSize()).isEqualTo("10M");
        assertThat(defaults.logBackups()).isEqualTo(3);
        assertThat(defaults.startTimeout()).hasSeconds(300);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PlatformSettings.from(
                Map.of(PlatformSettings.ENV_LOG_MAX_FILE_SIZE, "10 megabytes")))
                .hasMessageContaining("LABELSCOPE_LOG_MAX_FILE_SIZE=10 megabytes is not a size such as 512K, 10M or 1G");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PlatformSettings.from(
                Map.of(PlatformSettings.ENV_START_TIMEOUT, "0")))
                .hasMessageContaining("LABELSCOPE_START_TIMEOUT_SECONDS=0 must be at least 1");
    }

    private static int freePort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
