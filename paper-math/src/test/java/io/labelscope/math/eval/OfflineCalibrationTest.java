package io.labelscope.math.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.math.Calibration;
import io.labelscope.math.Conventions;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** The eval's {@code --calibration} output: ECE by hand, the prequential order, calibrators from another file. */
class OfflineCalibrationTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Two labels. d1 answers joy, H = (0.5, 0); d2 answers fear, H = (0, 1); d3 is not annotated.
     * Hard predictions p ∈ {1e-8, 1 − 1e-8}: bin 0 holds (1e-8, 0) twice, bin 9 (1 − 1e-8, 0.5) and (1 − 1e-8, 1);
     * ECE = 2/4·1e-8 + 2/4·|1 − 1e-8 − 0.75| = 0.125.
     */
    private static final String TWO_DOCS = """
            {"labels": ["joy", "fear"], "documents": [
              {"id": "d1", "steps": [{"logits": {"joy": 3, "fear": 0, "none": 1}, "generated": "joy"}],
               "final_labels": ["joy"], "annotators": [["joy"], []]},
              {"id": "d2", "steps": [{"logits": {"joy": 0, "fear": 2, "none": 1}, "generated": "fear"}],
               "final_labels": ["fear"], "annotators": [["fear"]]},
              {"id": "d3", "steps": [{"logits": {"joy": 1, "fear": 1, "none": 0}, "generated": "joy"}],
               "final_labels": ["joy"]}]}
            """;

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = OfflineCalibrationTest.class.getResourceAsStream("/eval-cases/" + name)) {
            return JSON.readTree(in);
        }
    }

    @Test
    void eceOfHardPredictionsByHand() throws IOException {
        JsonNode out = OfflineEval.run(JSON.readTree(TWO_DOCS), Conventions.paper(),
                CalibrationSource.prequential(Calibration.Settings.defaults()));
        JsonNode hard = out.at("/calibration/methods/hard_predictions");
        assertThat(hard.get("pairs").asLong()).isEqualTo(4);
        assertThat(hard.get("n_docs").asInt()).isEqualTo(2);
        assertThat(hard.get("ece").asDouble()).isCloseTo(0.125, within(1e-15));
        assertThat(hard.at("/bins/9/mean_human").asDouble()).isEqualTo(0.75);
        assertThat(hard.at("/bins/5/mean_predicted").isNull()).isTrue();
        assertThat(hard.at("/by_label/fear/pairs").asLong()).isEqualTo(2);
        assertThat(out.at("/calibration/methods/first_step/pairs").asLong()).as("every method has a diagram")
                .isEqualTo(4);
    }

    @Test
    void prequentialCalibratorsCountOnlyEarlierAnnotatedDocuments() throws IOException {
        Calibration.Settings settings = Calibration.Settings.defaults().withMinimumDocuments(1);
        JsonNode out = OfflineEval.run(JSON.readTree(TWO_DOCS), Conventions.paper(),
                CalibrationSource.prequential(settings));
        JsonNode docs = out.get("documents");
        assertThat(docs.get(0).at("/calibrator/identity").asBoolean()).isTrue();
        assertThat(docs.get(0).at("/methods/calibrated_max_over_generations/dist"))
                .isEqualTo(docs.get(0).at("/methods/max_over_generations/dist"));
        assertThat(docs.get(1).at("/calibrator/fitted_on_documents").asInt()).isEqualTo(1);
        assertThat(docs.get(2).at("/calibrator/fitted_on_documents").asInt()).isEqualTo(2);
        assertThat(docs.get(2).at("/calibrator/maps/joy/a").isNumber()).isTrue();
        assertThat(docs.get(2).at("/methods/calibrated_max_over_generations/nll").isNull())
                .as("not annotated: calibrated, not scored").isTrue();
        assertThat(out.at("/aggregate/methods/calibrated_max_over_generations/n_docs").asInt()).isEqualTo(2);
        assertThat(out.at("/calibration/paired").get("calibrated_max_over_generations - max_over_generations")
                .at("/nll/n_docs").asInt()).isEqualTo(2);
        assertThat(out.at("/calibration/source").asText()).isEqualTo("prequential");
    }

    @Test
    void calibratorsFittedOnAnotherFileCalibrateEveryDocument() throws IOException {
        Calibration.Settings settings = Calibration.Settings.defaults().withMinimumDocuments(4);
        JsonNode fitOn = resource("case1_basic.json"); // 4 annotated documents
        JsonNode out = OfflineEval.run(JSON.readTree(TWO_DOCS), Conventions.paper(),
                CalibrationSource.fittedOn("case1_basic.json", fitOn, settings));
        for (JsonNode d : out.get("documents")) {
            assertThat(d.at("/calibrator/identity").asBoolean()).isFalse();
            assertThat(d.at("/calibrator/fitted_on_documents").asInt()).isEqualTo(4);
        }
        assertThat(out.at("/calibration/source").asText()).isEqualTo("file:case1_basic.json");
        // the two labels of the evaluated file found their maps in the other file's (per-label) calibrators
        assertThat(out.at("/documents/0/calibrator/maps/fear/a").asDouble())
                .isEqualTo(out.at("/calibration/calibrator/maps/fear/a").asDouble());
        assertThat(out.at("/documents/0/methods/calibrated_max_over_generations/dist/joy").asDouble())
                .isNotEqualTo(out.at("/documents/0/methods/max_over_generations/dist/joy").asDouble());
    }

    @Test
    void withoutCalibrationTheOutputIsTheEvalFormatAlone() throws IOException {
        JsonNode out = OfflineEval.run(JSON.readTree(TWO_DOCS), Conventions.paper());
        assertThat(out.has("calibration")).isFalse();
        assertThat(out.at("/documents/0/methods").has("calibrated_max_over_generations")).isFalse();
        assertThat(out.at("/documents/0").has("calibrator")).isFalse();
    }
}
