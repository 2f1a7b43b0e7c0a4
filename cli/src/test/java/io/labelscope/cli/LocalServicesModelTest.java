package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.labelscope.platform.PlatformSettings;
import picocli.CommandLine;

/**
 * How {@code up --model/--device/--dtype} and the worker's environment variables reach the worker's command line
 * (the committed demo checkpoints are the models).
 */
class LocalServicesModelTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path GOEMOTIONS = ROOT.resolve("models/demo/goemotions");
    private static final Path MFRC = ROOT.resolve("models/demo/mfrc");

    private static List<String> workerSettings(LocalServices.WorkerModel model, Map<String, String> env,
                                               Path home) {
        PlatformSettings platform = PlatformSettings.from(Map.of("LABELSCOPE_HOME", home.toString()));
        return new LocalServices(ROOT, platform, model, env).service(LocalServices.WORKER).settings();
    }

    @Test
    void upModelDeviceAndDtypeReachTheWorkersCommandLine(@TempDir Path home) throws Exception {
        CommandLine cli = new CommandLine(new DemoCommand.Up());
        cli.parseArgs("--model", GOEMOTIONS.toString(), "--device", "gpu", "--dtype", "bf16");
        DemoCommand.Up up = cli.getCommand();
        var chosen = new LocalServices.WorkerModel(Optional.of(up.model), Optional.of(up.device),
                Optional.of(up.dtype));
        assertThat(workerSettings(chosen, Map.of(), home)).contains(
                "-Dlabelscope.worker.model.path=" + GOEMOTIONS,
                "-Dlabelscope.worker.model.device=gpu",
                "-Dlabelscope.worker.model.dtype=bf16",
                "-Dlabelscope.worker.models-dir=" + ROOT.resolve("models"));
        // Nothing chosen: the demo models, and device and dtype left to the worker's own defaults.
        assertThat(workerSettings(LocalServices.WorkerModel.defaults(), Map.of(), home))
                .contains("-Dlabelscope.worker.model.path=" + ROOT.resolve("models/demo"))
                .noneMatch(s -> s.startsWith("-Dlabelscope.worker.model.device"));
    }

    @Test
    void theWorkersEnvironmentVariablesAreHonouredAndTheOptionsWin(@TempDir Path home, @TempDir Path models) {
        Map<String, String> env = Map.of(
                "LABELSCOPE_WORKER_MODEL_PATH", MFRC.toString(),
                "LABELSCOPE_WORKER_MODEL_DEVICE", "gpu:1",
                "LABELSCOPE_WORKER_MODEL_DTYPE", "f16",
                "LABELSCOPE_WORKER_MODELS_DIR", models.toString(),
                "LABELSCOPE_WORKER_PORT", "20051");
        assertThat(workerSettings(LocalServices.WorkerModel.defaults(), env, home)).contains(
                "-Dlabelscope.worker.model.path=" + MFRC,
                "-Dlabelscope.worker.model.device=gpu:1",
                "-Dlabelscope.worker.model.dtype=f16",
                "-Dlabelscope.worker.models-dir=" + models,
                "-Dquarkus.http.port=20051");
        var options = new LocalServices.WorkerModel(Optional.of(GOEMOTIONS), Optional.of("cpu"), Optional.empty());
        assertThat(workerSettings(options, env, home)).contains(
                "-Dlabelscope.worker.model.path=" + GOEMOTIONS,
                "-Dlabelscope.worker.model.device=cpu",
                "-Dlabelscope.worker.model.dtype=f16")
                .doesNotContain("-Dlabelscope.worker.model.path=" + MFRC);
    }

    @Test
    void aModelThatIsNoCheckpointOrABadDeviceOrDtypeFailsBeforeAnythingStarts(@TempDir Path home,
                                                                                @TempDir Path empty) throws Exception {
        Files.writeString(empty.resolve("README.txt"), "not a model");
        PlatformSettings platform = PlatformSettings.from(Map.of("LABELSCOPE_HOME", home.toString()));
        var notAModel = new LocalServices.WorkerModel(Optional.of(empty), Optional.empty(), Optional.empty());
        assertThatThrownBy(() -> new LocalServices(ROOT, platform, notAModel, Map.of()).start(line -> { }))
                .isInstanceOf(Labelscope.UserError.class)
                .hasMessageContaining("--model: " + empty + " is not a model");
        assertThatThrownBy(() -> new LocalServices(ROOT, platform, LocalServices.WorkerModel.defaults(),
                Map.of("LABELSCOPE_WORKER_MODEL_PATH", empty.toString())).start(line -> { }))
                .hasMessageContaining("LABELSCOPE_WORKER_MODEL_PATH: " + empty + " is not a model");
        assertThatThrownBy(() -> new LocalServices.WorkerModel(Optional.empty(), Optional.of("tpu"), Optional.empty()))
                .hasMessageContaining("--device must be cpu, gpu or gpu:N, got 'tpu'");
        assertThatThrownBy(() -> new LocalServices.WorkerModel(Optional.empty(), Optional.empty(), Optional.of("f64")))
                .hasMessageContaining("--dtype must be one of f32, f16, bf16, got 'f64'");
    }
}
