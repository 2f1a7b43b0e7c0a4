package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import picocli.CommandLine;

class EvalCommandTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cli = Labelscope.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        return cli.execute(args);
    }

    @Test
    void printsTheEvalJsonWithTheConventionsAsked() throws Exception {
        Path input = Path.of(getClass().getResource("/eval/case1_basic.json").toURI());
        assertThat(run("eval", "--compat", "code", "--model-threshold=0.4", "--eps-hard", "1e-6", input.toString()))
                .as(err.toString()).isZero();
        JsonNode output = new ObjectMapper().readTree(out.toString());
        assertThat(output.at("/conventions/mode").asText()).isEqualTo("code");
        assertThat(output.at("/conventions/model_threshold").asDouble()).isEqualTo(0.4);
        assertThat(output.at("/conventions/eps_hard").asDouble()).isEqualTo(1e-6);
        assertThat(output.at("/documents/0/id").asText()).isEqualTo("b1_single");
        // Hard predictions put 1 - eps_hard on the generated label.
        assertThat(output.at("/documents/0/methods/hard_predictions/dist/joy").asDouble()).isEqualTo(1 - 1e-6);
    }

    @Test
    void invalidInputExitsOneNamingDocumentAndStep(@TempDir Path dir) throws Exception {
        Path input = dir.resolve("bad.json");
        Files.writeString(input, """
                {"labels": ["joy", "fear"], "documents": [{"id": "d9", "steps": [
                  {"logits": {"joy": 1.0, "fear": 2.0, "none": 0.5}, "generated": "fear"},
                  {"logits": {"joy": 1.0, "fear": 2.0}, "generated": "joy"}],
                  "final_labels": ["fear", "joy"], "annotators": [["fear"]]}]}
                """);
        assertThat(run("eval", input.toString())).isEqualTo(1);
        assertThat(err.toString()).startsWith("labelscope eval: invalid input").contains("d9").contains("step 2");
        assertThat(err.toString().lines()).hasSize(1);
    }

    @Test
    void usageErrorsExitTwoWithAOneLineReason() {
        assertThat(run("eval", "--bogus", "x.json")).isEqualTo(2);
        assertThat(err.toString()).contains("--bogus");
        assertThat(run("eval", "--compat", "sideways", "x.json")).isEqualTo(2);
        assertThat(err.toString()).contains("sideways");
    }

    @Test
    void missingFileAndBrokenJsonAreNamed(@TempDir Path dir) throws Exception {
        assertThat(run("eval", dir.resolve("nope.json").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("no such file").contains("nope.json");
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"labels\": [");
        assertThat(run("eval", broken.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("broken.json is not valid JSON");
    }

    @Test
    void calibrationPrequentialOrFromAnotherFile() throws Exception {
        Path input = Path.of(getClass().getResource("/eval/case1_basic.json").toURI());
        assertThat(run("eval", "--calibration", "prequential", "--calibration-min-documents", "2",
                "--calibration-shared", input.toString())).as(err.toString()).isZero();
        JsonNode pre = new ObjectMapper().readTree(out.toString());
        assertThat(pre.at("/calibration/settings/minimum_documents").asInt()).isEqualTo(2);
        assertThat(pre.at("/calibration/settings/shared_across_labels").asBoolean()).isTrue();
        assertThat(pre.at("/documents/1/calibrator/identity").asBoolean()).isTrue();
        assertThat(pre.at("/documents/2/calibrator/identity").asBoolean()).isFalse();
        assertThat(pre.at("/documents/2/calibrator/maps").has("*")).isTrue();
        assertThat(pre.at("/calibration/methods/max_over_generations/ece").isNumber()).isTrue();

        out.getBuffer().setLength(0);
        assertThat(run("eval", "--calibration", "file:" + input, "--calibration-min-documents=4", input.toString()))
                .as(err.toString()).isZero();
        JsonNode fitted = new ObjectMapper().readTree(out.toString());
        assertThat(fitted.at("/documents/0/calibrator/fitted_on_documents").asInt()).isEqualTo(4);
        assertThat(fitted.at("/calibration/source").asText()).isEqualTo("file:" + input);
    }

    @Test
    void badCalibrationOptionsAreNamed(@TempDir Path dir) throws Exception {
        Path input = Path.of(getClass().getResource("/eval/case1_basic.json").toURI());
        assertThat(run("eval", "--calibration", "sometimes", input.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("prequential or file:PATH").contains("sometimes");
        assertThat(run("eval", "--calibration-lambda", "0.1", input.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("need --calibration");
        assertThat(run("eval", "--calibration", "prequential", "--calibration-lambda", "0", input.toString()))
                .isEqualTo(2);
        assertThat(err.toString()).contains("L2 weight must be positive");
        assertThat(run("eval", "--calibration", "file:" + dir.resolve("gone.json"), input.toString())).isEqualTo(1);
        assertThat(err.toString()).contains("no such calibration file").contains("gone.json");
    }
}
