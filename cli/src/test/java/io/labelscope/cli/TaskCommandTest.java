package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.runtime.task.TaskFiles;
import picocli.CommandLine;

@ExtendWith(RealKafka.class)
class TaskCommandTest {

    static String[] run(int expectedExit, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Labelscope.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        assertThat(code).as(out + "\n" + err).isEqualTo(expectedExit);
        return new String[] {out.toString(), err.toString()};
    }

    @Test
    void registerListAndRemoveTasksOnTheTasksTopic(TestPlatform platform, @TempDir Path dir) throws Exception {
        String name = "cli-task-" + UUID.randomUUID().toString().substring(0, 8);
        Path file = dir.resolve(name + ".json");
        Files.writeString(file, "{\"name\": \"" + name + "\", \"labels\": [\"joy\", \"fear\"], "
                + "\"demos\": [{\"text\": \"yay\", \"labels\": [\"joy\"]}], \"k\": 1, \"format\": \"comma_list\"}");
        String bs = platform.bootstrapServers();
        assertThat(run(0, "task", "register", "--bootstrap-servers", bs, file.toString())[0])
                .contains("registered task '" + name + "': 2 labels, 1 of 1 demos, comma_list, max 48 new tokens");
        String list = run(0, "task", "list", "--bootstrap-servers", bs)[0];
        assertThat(list).contains(name + "\tjoy,fear\tk=1\tcomma_list\tmax_new_tokens=48");

        // Registered again with a change: the latest value wins.
        Files.writeString(file, Files.readString(file).replace("\"k\": 1", "\"k\": 0"));
        run(0, "task", "register", "--bootstrap-servers", bs, file.toString());
        assertThat(run(0, "task", "list", "--bootstrap-servers", bs)[0]).contains(name + "\tjoy,fear\tk=0");

        run(0, "task", "remove", "--bootstrap-servers", bs, name);
        assertThat(run(0, "task", "list", "--bootstrap-servers", bs)[0]).doesNotContain(name);

        // The committed demo tasks are valid files.
        Path tasks = Path.of("..", "tasks");
        if (Files.isDirectory(tasks)) {
            try (var files = Files.list(tasks)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".json")).toList()) {
                    assertThat(TaskFiles.read(f).name()).isNotBlank();
                }
            }
        }
    }

    @Test
    void anInvalidFileIsRejectedWithItsReasonAndNothingIsPublished(TestPlatform platform, @TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{\"name\": \"bad-task\", \"labels\": [\"joy\", \"none\"]}");
        String[] r = run(1, "task", "register", "--bootstrap-servers", platform.bootstrapServers(), file.toString());
        assertThat(r[1]).contains("pseudo-label");
        assertThat(run(0, "task", "list", "--bootstrap-servers", platform.bootstrapServers())[0])
                .doesNotContain("bad-task");
    }

    @Test
    void aTaskNamesItsModelListShowsItAndRegisteringOneNoWorkerCanServeWarns(TestPlatform platform, @TempDir Path dir)
            throws Exception {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String bs = platform.bootstrapServers();
        // A real committed checkpoint, named by absolute path; and a name that is no checkpoint anywhere.
        Path mfrc = Path.of("..", "models", "demo", "mfrc").toAbsolutePath().normalize();
        Path served = dir.resolve("served.json");
        Files.writeString(served, "{\"name\": \"served-" + tag + "\", \"labels\": [\"care\", \"purity\"], "
                + "\"model\": \"" + mfrc + "\"}");
        Path missing = dir.resolve("missing.json");
        Files.writeString(missing, "{\"name\": \"missing-" + tag + "\", \"labels\": [\"joy\"], "
                + "\"model\": \"no-such-model-" + tag + "\"}");
        Path onDefault = dir.resolve("default.json");
        Files.writeString(onDefault, "{\"name\": \"default-" + tag + "\", \"labels\": [\"joy\"]}");

        String[] r = run(0, "task", "register", "--bootstrap-servers", bs, served.toString(), missing.toString(),
                onDefault.toString());
        // Registered all the same (a model may come later), but the unservable one is named at once, with where
        // its model was looked for.
        assertThat(r[0]).contains("registered task 'missing-" + tag + "'");
        assertThat(r[1]).contains("warning: task 'missing-" + tag + "' cannot be served: model 'no-such-model-"
                + tag + "'").contains("models directory");
        assertThat(r[1]).doesNotContain("task 'served-" + tag + "' cannot be served");

        String list = run(0, "task", "list", "--bootstrap-servers", bs)[0];
        assertThat(list).contains("served-" + tag + "\tcare,purity\tk=0\tjson_list\tmax_new_tokens=48\tmodel=" + mfrc)
                .contains("missing-" + tag + "\tjoy\tk=0\tjson_list\tmax_new_tokens=48\tmodel=no-such-model-" + tag)
                .contains("default-" + tag + "\tjoy\tk=0\tjson_list\tmax_new_tokens=48\tmodel=(default)");
        run(0, "task", "remove", "--bootstrap-servers", bs, "served-" + tag, "missing-" + tag, "default-" + tag);
    }

    @Test
    void aRunningWorkersDefaultModelThatServesOtherTasksOnlyIsReported() {
        var worker = java.util.Optional.of(new ModelServing.WorkerInfo("http://127.0.0.1:1/q/health/ready",
                "demo/goemotions, demo/mfrc", java.util.List.of("goemotions", "mfrc"),
                Path.of("..", "models").toAbsolutePath().normalize()));
        var sentiment = TaskFiles.parse("{\"name\": \"sentiment\", \"labels\": [\"positive\", \"negative\"]}");
        assertThat(ModelServing.warnings(sentiment, "unused", worker, Path.of("unused")))
                .singleElement().asString().contains("task 'sentiment' names no model")
                .contains("serves only the tasks goemotions, mfrc").contains("--model");
        // The same task naming a committed checkpoint under the worker's models directory is served.
        assertThat(ModelServing.warnings(sentiment.withModel("demo/mfrc"), "unused", worker, Path.of("unused")))
                .isEmpty();
        assertThat(ModelServing.warnings(TaskFiles.parse("{\"name\": \"mfrc\", \"labels\": [\"care\"]}"),
                "unused", worker, Path.of("unused"))).isEmpty();
    }
}
