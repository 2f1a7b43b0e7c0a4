package io.labelscope.aggregator;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.closeTo;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The same scenarios on the running service (Quarkus, exactly-once Kafka Streams) against the real broker and
 * registry, outputs read with read_committed; plus the interactive queries over REST.
 */
@QuarkusTest
@QuarkusTestResource(value = PlatformWithTopics.class, restrictToAnnotatedClass = true)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AggregatorServiceTest extends AggregatorScenarios implements AnnotateNextScenarios {

    @ConfigProperty(name = "quarkus.kafka-streams.bootstrap-servers")
    String bootstrapServers;

    @ConfigProperty(name = "labelscope.registry.url")
    String registryUrl;

    @ConfigProperty(name = "quarkus.kafka-streams.application-id")
    String applicationId;

    private BrokerPipeline pipeline;

    @BeforeAll
    void connect() {
        pipeline = new BrokerPipeline(bootstrapServers, registryUrl, applicationId);
        // JSON numbers as double, not RestAssured's default float (0.7f is 1.2e-8 away from 0.7).
        io.restassured.RestAssured.config = io.restassured.RestAssured.config().jsonConfig(
                io.restassured.config.JsonConfig.jsonConfig().numberReturnType(
                        io.restassured.path.json.config.JsonPathConfig.NumberReturnType.DOUBLE));
    }

    @AfterAll
    void disconnect() {
        pipeline.close();
    }

    @Override
    public Pipeline pipeline() {
        return pipeline;
    }

    /**
     * The dashboard's throughput covers every input topic (issue #14): records read from unary-probes and
     * binary-probes are counted and their partitions' lag is reported, as for steps, generations, annotations.
     */
    @Test
    void throughputCoversEveryInputTopic() {
        String model = "m-throughput";
        String doc = "throughput-doc";
        unary(model, doc, List.of("unary", "binary"));
        binary(model, doc, List.of("unary", "binary"));
        pipeline.distributions(doc, 1);

        long deadline = System.nanoTime() + BrokerPipeline.WAIT.toNanos();
        io.restassured.path.json.JsonPath throughput;
        do {
            throughput = given().get("/api/overview").then().statusCode(200).extract().jsonPath();
        } while (!(count(throughput, "unary-probes") >= 1 && count(throughput, "binary-probes") >= 1)
                && System.nanoTime() < deadline && sleep(200));
        assertThat(count(throughput, "unary-probes")).as("records read from unary-probes").isGreaterThanOrEqualTo(1);
        assertThat(count(throughput, "binary-probes")).as("records read from binary-probes")
                .isGreaterThanOrEqualTo(1);
        Map<String, Object> lagByTopic = throughput.getMap("throughput.records_lag_by_topic");
        assertThat(lagByTopic).as("lag per input topic").containsKeys("unary-probes", "binary-probes");
        assertThat(throughput.getMap("throughput")).containsKeys("unary_probes_per_second",
                "binary_probes_per_second");
    }

    private static double count(io.restassured.path.json.JsonPath throughput, String topic) {
        Object v = throughput.getMap("throughput.totals").get("consumed." + topic);
        return v == null ? -1 : ((Number) v).doubleValue();
    }

    private static boolean sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }

    @Test
    void interactiveQueriesServeDocumentsAndMetrics() {
        String model = "m-rest";
        String doc = "rest-doc";
        annotate(doc, "ann-1", "joy");
        annotate(doc, "ann-2", "joy", "fear");
        step0(model, doc);
        step1(model, doc);
        generation(model, doc);
        pipeline.distributions(doc, 1);
        pipeline.alignment(model, "max_over_generations", m -> m.getDocuments() == 1);

        given().get("/documents/{id}", doc).then().log().ifValidationFails().statusCode(200)
                .body("document_id", equalTo(doc))
                .body("labels", equalTo(Records.LABELS))
                .body("annotators", equalTo(2))
                .body("distributions", hasSize(1))
                .body("distributions[0].methods.max_over_generations.distribution.fear", closeTo(0.7, 1e-12))
                .body("distributions[0].methods.max_over_generations.nll", closeTo(maxNll(1, 0.5, 0), 1e-12));
        given().get("/documents/{id}", "no-such-document").then().statusCode(404);

        given().queryParam("task", Records.TASK).queryParam("model", model).get("/metrics/alignment")
                .then().statusCode(200)
                .body("all_time.max_over_generations.documents", equalTo(1))
                .body("all_time.max_over_generations.mean_l1", closeTo(0.7, 1e-12))
                .body("windows.size()", org.hamcrest.Matchers.greaterThan(0));
        given().queryParam("task", Records.TASK).queryParam("model", model).get("/metrics/spikiness")
                .then().statusCode(200)
                .body("all_time.'intermediate/0'.top1.mean", closeTo(0.6, 1e-12))
                .body("all_time.answer.multilabel_answer_rate", closeTo(1.0, 1e-12));
        given().get("/metrics/alignment").then().statusCode(400);
    }
}
