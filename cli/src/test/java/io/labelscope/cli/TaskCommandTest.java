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
import io.labelscope.runtime.TextTokenizer;
import io.labelscope.runtime.task.PromptRenderer;
import io.labelscope.runtime.task.TaskDefinition;
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

    /** Issue #15 item 6: each registered definition has a version; another prompt gives another one. */
    @Test
    void registerListAndShowPrintTheVersionAndAnotherPromptGivesAnotherVersion(TestPlatform platform,
                                                                              @TempDir Path dir) throws Exception {
        String name = "cli-version-" + UUID.randomUUID().toString().substring(0, 8);
        Path file = dir.resolve(name + ".json");
        Files.writeString(file, "{\"name\": \"" + name + "\", \"labels\": [\"joy\", \"fear\"]}");
        String bs = platform.bootstrapServers();
        String first = TaskFiles.version(TaskFiles.read(file));
        assertThat(run(0, "task", "register", "--bootstrap-servers", bs, file.toString())[0])
                .contains(", version " + first + " (");
        assertThat(run(0, "task", "list", "--bootstrap-servers", bs)[0]).containsPattern(
                "(?m)^" + name + "\t.*\tversion=" + first + "$");
        String[] show = run(0, "task", "show", name, "--bootstrap-servers", bs);
        assertThat(show[1]).contains("version: " + first);
        assertThat(TaskFiles.version(TaskFiles.parse(show[0]))).as("stdout is the task file itself").isEqualTo(first);

        // The same definition again keeps its version; another instruction gives a new one.
        run(0, "task", "register", "--bootstrap-servers", bs, file.toString());
        assertThat(run(0, "task", "list", "--bootstrap-servers", bs)[0]).contains("\tversion=" + first);
        Files.writeString(file, "{\"name\": \"" + name + "\", \"labels\": [\"joy\", \"fear\"], "
                + "\"instruction\": \"Which of {labels} fit?\\n\"}");
        String second = TaskFiles.version(TaskFiles.read(file));
        assertThat(second).isNotEqualTo(first).matches("[0-9a-f]{12}");
        assertThat(run(0, "task", "register", "--bootstrap-servers", bs, file.toString())[0])
                .contains(", version " + second + " (");
        assertThat(run(0, "task", "list", "--bootstrap-servers", bs)[0]).contains("\tversion=" + second)
                .doesNotContain("\tversion=" + first);
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

    /**
     * Issue #15 item 8: {@code task show T --render --model DIR} prints the prompt the worker builds for the
     * task's first demo with the committed demo checkpoint, and its token count with that checkpoint's tokenizer.
     */
    @Test
    void showRendersTheSamplePromptWithTheModelsTokenizer(TestPlatform platform, @TempDir Path dir)
            throws Exception {
        String name = "cli-show-" + UUID.randomUUID().toString().substring(0, 8);
        Path file = dir.resolve(name + ".json");
        String demoText = "what a lovely surprise party";
        Files.writeString(file, "{\"name\": \"" + name + "\", \"labels\": [\"joy\", \"surprise\", \"anger\"], "
                + "\"demos\": [{\"text\": \"" + demoText + "\", \"labels\": [\"joy\", \"surprise\"]}, "
                + "{\"text\": \"go away\", \"labels\": [\"anger\"]}], \"k\": 2}");
        String bs = platform.bootstrapServers();
        run(0, "task", "register", "--bootstrap-servers", bs, file.toString());

        Path model = ModelInspectCommandTest.DEMO;
        String out = run(0, "task", "show", name, "--render", "--model", model.toString(), "--bootstrap-servers",
                bs)[0];
        TaskDefinition task = TaskFiles.read(file);
        PromptRenderer renderer = PromptRenderer.forCheckpoint(task, model);
        String prompt = renderer.prompt(demoText);
        int tokens;
        try (TextTokenizer tok = TextTokenizer.load(model)) {
            tokens = tok.encode(prompt, renderer.addSpecialTokens()).length;
        }
        assertThat(prompt).contains(demoText).contains("go away");
        assertThat(tokens).isGreaterThan(demoText.split(" ").length);
        assertThat(out).contains("task:           " + name + " (prompt_format plain, 3 labels)")
                .contains("sample prompt:  " + tokens + " tokens, document \"" + demoText + "\"")
                .contains("----\n" + prompt + "\n----");

        // Another document, and the task as JSON without --render.
        assertThat(run(0, "task", "show", name, "--render", "--model", model.toString(), "--document",
                "rain again", "--bootstrap-servers", bs)[0]).contains(renderer.prompt("rain again"));
        assertThat(run(0, "task", "show", name, "--bootstrap-servers", bs)[0]).contains("\"name\" : \"" + name + "\"");

        // Unknown task: one line naming the registered ones; --render without a model: says what is needed.
        String[] unknown = run(1, "task", "show", "no-such-task", "--bootstrap-servers", bs);
        assertThat(unknown[1]).contains("no task 'no-such-task' is registered").contains(name);
        assertThat(run(2, "task", "show", name, "--render", "--model", dir.resolve("nope").toString(),
                "--bootstrap-servers", bs)[1]).contains("no such checkpoint directory");
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
