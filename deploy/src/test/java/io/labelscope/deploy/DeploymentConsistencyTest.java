package io.labelscope.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import io.labelscope.schemas.Topics;

/**
 * docker-compose.yml and the Kubernetes manifests cannot run here (no Docker engine, no cluster), so this checks
 * that they say the same as the services do: ports, topics, environment variables, health and metrics.
 */
class DeploymentConsistencyTest {

    private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final Map<String, ServiceConfig> SERVICES = Map.of(
            "inference-worker", ServiceConfig.of(ROOT, "inference-worker"),
            "aggregator", ServiceConfig.of(ROOT, "aggregator"));

    private static JsonNode compose() throws IOException {
        return YAML.readTree(ROOT.resolve("docker-compose.yml").toFile());
    }

    /** Every document of every manifest in deploy/k8s. */
    private static List<JsonNode> manifests() throws IOException {
        List<JsonNode> documents = new ArrayList<>();
        try (Stream<Path> files = Files.list(ROOT.resolve("deploy/k8s"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                var parser = new YAMLFactory().createParser(file.toFile());
                documents.addAll(YAML.readValues(parser, JsonNode.class).readAll());
            }
        }
        return documents;
    }

    private static JsonNode manifest(String kind, String name) throws IOException {
        return manifests().stream().filter(m -> m.path("kind").asText().equals(kind)
                && m.at("/metadata/name").asText().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in deploy/k8s"));
    }

    @Test
    void composeEnvironmentNamesOnlySettingsTheServicesHave() throws IOException {
        JsonNode services = compose().get("services");
        SERVICES.forEach((name, config) -> {
            JsonNode env = services.get(name).get("environment");
            assertThat(env).as(name + " environment").isNotNull();
            env.fieldNames().forEachRemaining(variable -> assertThat(config.propertyForEnv(variable))
                    .as("%s sets %s, which no setting of %s/application.properties reads", name, variable, name)
                    .isPresent());
        });
    }

    @Test
    void composePortsMatchTheServicesAndPrometheusScrapesThem() throws IOException {
        JsonNode services = compose().get("services");
        String prometheus = Files.readString(ROOT.resolve("deploy/prometheus/prometheus.yml"));
        JsonNode scrape = YAML.readTree(prometheus).get("scrape_configs");
        SERVICES.forEach((name, config) -> {
            JsonNode service = services.get(name);
            int port = Integer.parseInt(service.at("/environment/QUARKUS_HTTP_PORT").asText());
            assertThat(port).as(name + " port in compose vs application.properties").isEqualTo(config.httpPort());
            List<String> published = new ArrayList<>();
            service.path("ports").forEach(p -> published.add(p.asText()));
            service.path("expose").forEach(p -> published.add(p.asText()));
            assertThat(published).as(name + " publishes its port").anyMatch(p -> p.endsWith(":" + port)
                    || p.equals(String.valueOf(port)));
            published.stream().filter(p -> p.contains(":")).forEach(p ->
                    assertThat(p).as(name + " binds the host side to loopback").startsWith("127.0.0.1:"));
            boolean scraped = false;
            for (JsonNode job : scrape) {
                for (JsonNode target : job.at("/static_configs/0/targets")) {
                    if (target.asText().equals(name + ":" + port)) {
                        assertThat(job.path("metrics_path").asText()).isEqualTo(config.metricsPath());
                        scraped = true;
                    }
                }
            }
            assertThat(scraped).as("prometheus scrapes " + name + ":" + port).isTrue();
            assertThat(config.pom().contains("quarkus-micrometer-registry-prometheus"))
                    .as(name + " exports Prometheus metrics").isTrue();
        });
    }

    @Test
    void topicsAreCreatedBeforeTheServicesAndCoverWhatTheyRead() throws IOException {
        JsonNode services = compose().get("services");
        assertThat(services.at("/kafka/environment/KAFKA_AUTO_CREATE_TOPICS_ENABLE").asText()).isEqualTo("false");
        List<String> command = new ArrayList<>();
        services.at("/topics/command").forEach(c -> command.add(c.asText()));
        assertThat(command).startsWith("topics", "ensure");
        // The labelscope command line itself must accept the job's arguments.
        picocli.CommandLine.ParseResult parsed = io.labelscope.cli.Labelscope.commandLine()
                .parseArgs(command.toArray(String[]::new));
        assertThat(parsed.subcommand().subcommand().commandSpec().name()).isEqualTo("ensure");
        for (String name : SERVICES.keySet()) {
            assertThat(services.at("/" + name + "/depends_on/topics/condition").asText())
                    .as(name + " waits for the topics").isEqualTo("service_completed_successfully");
        }

        Set<String> created = new HashSet<>(Topics.ALL.stream().map(Topics.TopicSpec::name).toList());
        created.add(Topics.TASKS);
        Set<String> read = new HashSet<>(List.of(SERVICES.get("aggregator").properties()
                .get("quarkus.kafka-streams.topics").split(",")));
        read.add(SERVICES.get("inference-worker").properties().get("labelscope.worker.documents-topic"));
        assertThat(created).containsAll(read);
        // Both services read the same registry through the same setting.
        SERVICES.values().forEach(c -> assertThat(c.properties()).containsKey("labelscope.registry.url"));
    }

    @Test
    void kubernetesWorkersAskForGpusAndMatchTheWorkersSettings() throws IOException {
        ServiceConfig worker = SERVICES.get("inference-worker");
        JsonNode deployment = manifest("Deployment", "labelscope-inference-worker");
        JsonNode container = deployment.at("/spec/template/spec/containers/0");
        assertThat(container.at("/resources/requests/nvidia.com~1gpu").asInt()).isEqualTo(1);
        assertThat(container.at("/resources/limits/nvidia.com~1gpu").asInt()).isEqualTo(1);
        checkContainer(worker, deployment, container);
    }

    @Test
    void kubernetesAggregatorIsAStatefulSetWithPersistentStateAndPodAddresses() throws IOException {
        ServiceConfig aggregator = SERVICES.get("aggregator");
        JsonNode set = manifest("StatefulSet", "labelscope-aggregator");
        JsonNode container = set.at("/spec/template/spec/containers/0");
        checkContainer(aggregator, set, container);
        String claim = set.at("/spec/volumeClaimTemplates/0/metadata/name").asText();
        String stateDir = env(container, "KAFKA_STREAMS_STATE_DIR");
        assertThat(container.get("volumeMounts")).anySatisfy(m -> {
            assertThat(m.get("name").asText()).isEqualTo(claim);
            assertThat(m.get("mountPath").asText()).isEqualTo(stateDir);
        });
        String headless = set.at("/spec/serviceName").asText();
        assertThat(manifest("Service", headless).at("/spec/clusterIP").asText()).isEqualTo("None");
        assertThat(env(container, "QUARKUS_KAFKA_STREAMS_APPLICATION_SERVER"))
                .isEqualTo("$(POD_NAME)." + headless + ":" + aggregator.httpPort());
    }

    @Test
    void kustomizationNamesEveryManifestAndItsFilesExist() throws IOException {
        JsonNode kustomization = YAML.readTree(ROOT.resolve("deploy/kustomization.yaml").toFile());
        Set<String> listed = new HashSet<>();
        kustomization.get("resources").forEach(r -> listed.add(r.asText()));
        try (Stream<Path> files = Files.list(ROOT.resolve("deploy/k8s"))) {
            assertThat(listed).containsExactlyInAnyOrderElementsOf(files.map(f -> "k8s/" + f.getFileName()).toList());
        }
        for (JsonNode generator : kustomization.path("configMapGenerator")) {
            generator.path("files").forEach(f -> assertThat(ROOT.resolve("deploy").resolve(f.asText())).isRegularFile());
        }
    }

    @Test
    void grafanaDashboardQueriesOnlyMetricsTheServicesRegister() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(ROOT.resolve("deploy/grafana/dashboards/labelscope.json")
                .toFile());
        Pattern metric = Pattern.compile("labelscope_(worker|aggregator)_[a-z0-9_]+");
        List<String> used = new ArrayList<>();
        dashboard.get("panels").forEach(panel -> panel.get("targets").forEach(target -> {
            Matcher m = metric.matcher(target.get("expr").asText());
            while (m.find()) {
                used.add(m.group());
            }
        }));
        assertThat(used).isNotEmpty();
        for (String name : used) {
            String service = name.startsWith("labelscope_worker") ? "inference-worker" : "aggregator";
            String meter = name.replaceAll("_(total|seconds_bucket|seconds_sum|seconds_count|sum|count|max)$", "")
                    .replace('_', '.');
            assertThat(SERVICES.get(service).sources().contains("\"" + meter + "\""))
                    .as("%s registers meter %s (queried as %s)", service, meter, name).isTrue();
        }
    }

    @Test
    void tasksConfigMapCarriesTheTaskFilesUnchanged() throws IOException {
        JsonNode data = manifest("ConfigMap", "labelscope-tasks").get("data");
        List<String> files = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(ROOT.resolve("tasks"))) {
            for (Path task : tasks.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                String name = task.getFileName().toString();
                files.add(name);
                assertThat(data.path(name).asText().strip()).as(name).isEqualTo(Files.readString(task).strip());
            }
        }
        assertThat(files).isNotEmpty();
        List<String> mapped = new ArrayList<>();
        data.fieldNames().forEachRemaining(mapped::add);
        assertThat(mapped).containsExactlyInAnyOrderElementsOf(files);
    }

    private static void checkContainer(ServiceConfig config, JsonNode workload, JsonNode container) {
        int port = container.at("/ports/0/containerPort").asInt();
        assertThat(port).isEqualTo(config.httpPort());
        assertThat(env(container, "QUARKUS_HTTP_PORT")).isEqualTo(String.valueOf(port));
        JsonNode annotations = workload.at("/spec/template/metadata/annotations");
        assertThat(annotations.get("prometheus.io/port").asText()).isEqualTo(String.valueOf(port));
        assertThat(annotations.get("prometheus.io/path").asText()).isEqualTo(config.metricsPath());
        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/q/health/ready");
        assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/q/health/live");
        assertThat(config.pom().contains("quarkus-smallrye-health")).as(config.module() + " serves health checks")
                .isTrue();
        container.path("env").forEach(e -> {
            String variable = e.get("name").asText();
            if (!variable.equals("POD_NAME") && !variable.startsWith("PYTORCH_")) {
                assertThat(config.propertyForEnv(variable))
                        .as("%s sets %s, which no setting of %s reads", config.module(), variable, config.module())
                        .isPresent();
            }
        });
    }

    private static String env(JsonNode container, String name) {
        for (JsonNode e : container.path("env")) {
            if (e.get("name").asText().equals(name)) {
                return e.path("value").asText();
            }
        }
        throw new AssertionError("container sets no " + name);
    }
}
