package io.labelscope.math.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelscope.math.Conventions;
import io.labelscope.math.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The eval against the shared worked cases, plus its error handling and options. */
class OfflineEvalTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<String> cases() throws IOException, URISyntaxException {
        Path dir = Path.of(OfflineEvalTest.class.getResource("/eval-cases").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            List<String> names = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".json") && !n.endsWith(".expected.json"))
                    .filter(n -> Files.exists(dir.resolve(n.replace(".json", ".expected.json"))))
                    .sorted().toList();
            assertThat(names).as("eval cases on the test classpath").isNotEmpty();
            return names.stream();
        }
    }

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = OfflineEvalTest.class.getResourceAsStream("/eval-cases/" + name)) {
            return JSON.readTree(in);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyNumberOfTheExpectedOutputAgrees(String input) throws IOException {
        JsonNode expected = resource(input.replace(".json", ".expected.json"));
        ObjectNode actual = withoutFirstStep(OfflineEval.run(resource(input), Conventions.paper()));
        assertThat(JsonNumbers.differences(expected, actual)).isEmpty();
    }

    /** The shared expected outputs list no first_step method; it is checked against them separately below. */
    private static ObjectNode withoutFirstStep(ObjectNode output) {
        output.get("documents").forEach(d -> ((ObjectNode) d.get("methods")).remove("first_step"));
        ((ObjectNode) output.at("/aggregate/methods")).remove("first_step");
        return output;
    }

    /**
     * first_step, as the aggregator streams it: P_0 over the labels, i.e. the expected output's own first-step
     * probabilities, scored like every method; with no step, the max-over-generations floor; in the aggregate,
     * the mean over annotated documents.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void firstStepIsTheFirstStepsProbabilitiesScoredLikeTheOtherMethods(String input) throws IOException {
        JsonNode expected = resource(input.replace(".json", ".expected.json"));
        JsonNode actual = OfflineEval.run(resource(input), Conventions.paper());
        double nllSum = 0;
        int annotated = 0;
        for (int i = 0; i < expected.get("documents").size(); i++) {
            JsonNode want = expected.get("documents").get(i);
            JsonNode first = actual.get("documents").get(i).at("/methods/first_step");
            assertThat(first.isObject()).as(want.get("id").asText()).isTrue();
            JsonNode steps = want.get("steps");
            double[] p = new double[want.get("labels").size()];
            for (int k = 0; k < p.length; k++) {
                String label = want.get("labels").get(k).asText();
                p[k] = steps.isEmpty() ? 1e-8 : steps.get(0).get("probs").get(label).asDouble();
                assertThat(first.at("/dist/" + label).asDouble()).isCloseTo(p[k], within(1e-12));
            }
            if (want.get("human").isNull()) {
                assertThat(first.get("nll").isNull()).isTrue();
                continue;
            }
            double nll = 0;
            for (int k = 0; k < p.length; k++) {
                double h = want.get("human").get(want.get("labels").get(k).asText()).asDouble();
                double q = Math.min(Math.max(p[k], 1e-8), 1 - 1e-8);
                nll -= h * Math.log(q) + (1 - h) * Math.log(1 - q);
            }
            assertThat(first.get("nll").asDouble()).isCloseTo(nll, within(1e-9 * Math.max(1, nll)));
            nllSum += nll;
            annotated++;
        }
        JsonNode aggregate = actual.at("/aggregate/methods/first_step");
        assertThat(aggregate.get("n_docs").asInt()).isEqualTo(annotated);
        assertThat(aggregate.get("nll").asDouble()).isCloseTo(nllSum / annotated, within(1e-9));
    }

    @Test
    void theComparisonCatchesASmallError() throws IOException {
        JsonNode expected = resource("case1_basic.expected.json");
        ObjectNode actual = withoutFirstStep(OfflineEval.run(resource("case1_basic.json"), Conventions.paper()));
        ObjectNode agg = (ObjectNode) actual.get("aggregate").get("methods").get("compare_to_none");
        agg.put("nll", agg.get("nll").asDouble() * (1 + 1e-8));
        assertThat(JsonNumbers.differences(expected, actual))
                .singleElement().asString().startsWith("$.aggregate.methods.compare_to_none.nll");
        assertThat(JsonNumbers.numbersAgree(1e-12, 2e-12)).isTrue(); // absolute tolerance near zero
    }

    @Test
    void codeCompatGivesUniformMaxOverGenerationsWithoutSteps() throws IOException {
        JsonNode out = OfflineEval.run(resource("case2_empty_outputs.json"), Conventions.code());
        JsonNode dist = out.get("documents").get(1).get("methods").get("max_over_generations").get("dist");
        assertThat(dist.get("joy").asDouble()).isEqualTo(1.0 / 7);
        assertThat(out.get("conventions").get("mode").asText()).isEqualTo("code");
    }

    private static final String MISSING_NONE = """
            {"labels": ["joy", "fear"], "documents": [{"id": "d9",
              "steps": [{"logits": {"joy": 1, "fear": 2, "none": 0}, "generated": "fear"},
                        {"logits": {"joy": 1, "fear": 2}, "generated": null}],
              "final_labels": ["fear"], "annotators": [["fear"]]}]}
            """;

    @Test
    void aStepWithoutTheNoneLogitIsRejectedNamingDocumentAndStep() {
        assertThatThrownBy(() -> OfflineEval.run(JSON.readTree(MISSING_NONE), Conventions.paper()))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("'d9'").hasMessageContaining("step 2").hasMessageContaining("none");
    }

    @Test
    void goldOverrideUnaryAndBinaryInputsAreScored() throws IOException {
        // Label set [a, b]. Unary: a σ(3−1) = σ(2), b σ(0) = 0.5. Binary outcomes: a beats none (gap 1),
        // none beats b (gap 1), a beats b: BT with 0/1 outcomes puts a above none above b.
        String input = """
                {"labels": ["a", "b"], "documents": [{"id": "u1",
                  "steps": [{"logits": {"a": 2, "b": 0, "none": 0}, "generated": "a"}],
                  "final_labels": ["a"], "annotators": [["a"], []], "gold_labels": ["b"],
                  "unary": {"a": {"reasonable": 3, "unreasonable": 1}, "b": {"reasonable": 1, "unreasonable": 1},
                            "none": {"reasonable": 0, "unreasonable": 0}},
                  "binary": [{"a": "a", "b": "none", "logit_a": 2, "logit_b": 1},
                             {"a": "none", "b": "b", "logit_a": 2, "logit_b": 1},
                             {"a": "a", "b": "b", "logit_a": 2, "logit_b": 1}]}]}
                """;
        JsonNode doc = OfflineEval.run(JSON.readTree(input), Conventions.paper()).get("documents").get(0);
        assertThat(doc.get("gold_source").asText()).isEqualTo("gold_labels");
        assertThat(doc.get("gold_labels").get(0).asText()).isEqualTo("b");
        JsonNode unary = doc.get("methods").get("unary_breakdown");
        assertThat(unary.get("dist").get("a").asDouble()).isEqualTo(1 / (1 + Math.exp(-2)));
        assertThat(unary.get("dist").get("b").asDouble()).isEqualTo(0.5);
        // gold {b}, unary predicts {a, b} (b = 0.5 reaches the threshold): F1 = 2·1/(1+2) = 2/3
        assertThat(unary.get("example_f1").asDouble()).isEqualTo(2.0 / 3);
        JsonNode outcome = doc.get("methods").get("binary_outcome").get("dist");
        assertThat(outcome.get("a").asDouble()).isGreaterThan(0.5);
        assertThat(outcome.get("b").asDouble()).isLessThan(0.5);
        assertThat(doc.get("methods").has("binary_breakdown")).isTrue();
    }
}
