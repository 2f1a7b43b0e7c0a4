package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;
import picocli.CommandLine;

/**
 * What {@code produce} checks before it sends, against a real broker and registry with a task registered on the
 * real tasks topic: unknown tasks, labels outside the task's set, missing header columns, broken quoting and files
 * that are not UTF-8.
 */
@ExtendWith(RealKafka.class)
class ProduceChecksTest {

    private static TestPlatform platform;
    /** A task of this run, registered on the tasks topic: labels joy, fear, surprise. */
    private static String task;

    private String out;
    private String err;

    @BeforeAll
    static void registerTask(TestPlatform shared, @TempDir Path dir) throws Exception {
        platform = shared;
        platform.ensureTopics(PlatformCommand.publicTopics(), 2);
        task = "checks-" + UUID.randomUUID().toString().substring(0, 8);
        Path file = dir.resolve(task + ".json");
        Files.writeString(file, "{\"name\": \"" + task + "\", \"labels\": [\"joy\", \"fear\", \"surprise\"]}");
        ProduceChecksTest setup = new ProduceChecksTest();
        assertThat(setup.run("task", "register", file.toString())).as(setup.err).isZero();
    }

    private int run(String... args) {
        StringWriter outBuffer = new StringWriter();
        StringWriter errBuffer = new StringWriter();
        CommandLine cli = Labelscope.commandLine();
        cli.setOut(new PrintWriter(outBuffer));
        cli.setErr(new PrintWriter(errBuffer));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap-servers", platform.bootstrapServers()));
        if (!args[0].equals("task")) {
            all.addAll(List.of("--registry-url", platform.registryUrl()));
        }
        int code = cli.execute(all.toArray(String[]::new));
        out = outBuffer.toString();
        err = errBuffer.toString();
        return code;
    }

    @Test
    void anUnknownTaskFailsWithOneLineNamingTheKnownTasksUnlessChecksAreOff(@TempDir Path dir) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path csv = dir.resolve("docs.csv");
        Files.writeString(csv, "id,text\n" + run + "-1,hello\n");

        assertThat(run("produce", "documents", csv.toString(), "--task", "typo-" + run)).isEqualTo(ExitCode.ERROR);
        assertThat(err.strip().lines()).singleElement().asString()
                .contains("unknown task 'typo-" + run + "'").contains(task).contains("--no-check");
        assertThat(out).doesNotContain("sent");

        assertThat(run("produce", "documents", csv.toString(), "--task", "typo-" + run, "--no-check"))
                .as(err).isZero();
        assertThat(out).contains("sent 1 documents to documents");
    }

    @Test
    void documentsNamingAnUnknownTaskInTheirRowAreRejectedByLine(@TempDir Path dir) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path jsonl = dir.resolve("docs.jsonl");
        Files.writeString(jsonl, String.join("\n",
                "{\"id\": \"" + run + "-1\", \"text\": \"fine\"}",
                "{\"id\": \"" + run + "-2\", \"text\": \"other task\", \"task\": \"nosuch-" + run + "\"}",
                ""));
        assertThat(run("produce", "documents", jsonl.toString(), "--task", task)).as(err)
                .isEqualTo(ExitCode.LINES_REJECTED);
        assertThat(out).contains("sent 1 documents").contains("line 2: unknown task 'nosuch-" + run + "'");
    }

    @Test
    void annotationsWithLabelsOutsideTheTaskOrAnUnknownTaskAreRejectedInEveryFormat(@TempDir Path dir)
            throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path csv = dir.resolve("votes.csv");
        Files.writeString(csv, String.join("\n",
                "document_id,annotator_id,labels,task",
                run + "-1,a1,\"joy;Fear \",",
                run + "-1,a2,anger;joy,",
                run + "-1,a3,joy,nosuch-" + run,
                run + "-1,a4,,",
                ""));
        Path tsv = dir.resolve("votes.tsv");
        Files.writeString(tsv, Files.readString(csv).replace(",", "\t").replace("\"joy;Fear \"", "joy;Fear "));
        Path jsonl = dir.resolve("votes.jsonl");
        Files.writeString(jsonl, String.join("\n",
                "{\"document_id\": \"" + run + "-1\", \"annotator_id\": \"a1\", \"labels\": [\"joy\", \"Fear \"]}",
                "{\"document_id\": \"" + run + "-1\", \"annotator_id\": \"a2\", \"labels\": [\"anger\", \"joy\"]}",
                "{\"document_id\": \"" + run + "-1\", \"annotator_id\": \"a3\", \"labels\": [\"joy\"], "
                        + "\"task\": \"nosuch-" + run + "\"}",
                "{\"document_id\": \"" + run + "-1\", \"annotator_id\": \"a4\", \"labels\": []}",
                ""));
        for (Path file : List.of(csv, tsv, jsonl)) {
            int firstRow = file == jsonl ? 1 : 2;
            assertThat(run("produce", "annotations", file.toString(), "--task", task)).as(file + ": " + err)
                    .isEqualTo(ExitCode.LINES_REJECTED);
            assertThat(out).as(file.toString()).contains("sent 2 annotations")
                    .contains("rejected 2 line(s)")
                    .contains("line " + (firstRow + 1) + ": label 'anger' is not a label of task '" + task
                            + "' (joy, fear, surprise)")
                    .contains("line " + (firstRow + 2) + ": unknown task 'nosuch-" + run + "'");
        }
    }

    @Test
    void aCsvWithoutTheRequiredColumnSaysSoOnceNamingTheHeader(@TempDir Path dir) throws Exception {
        Path csv = dir.resolve("docs.csv");
        Files.writeString(csv, "id,body\nd1,one\nd2,two\nd3,three\n");
        assertThat(run("produce", "documents", csv.toString(), "--task", task)).isEqualTo(ExitCode.ERROR);
        assertThat(err.strip().lines()).singleElement().asString()
                .contains("no 'text' column").contains("the columns id, body");
        assertThat(out).doesNotContain("line 2").doesNotContain("sent");
    }

    @Test
    void brokenQuotingPointsAtTheLineWhereTheFieldOpened(@TempDir Path dir) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path csv = dir.resolve("docs.csv");
        Files.writeString(csv, String.join("\n",
                "id,text",
                run + "-1,fine",
                run + "-2,\"this quote is never closed",
                run + "-3,swallowed by the open quote",
                run + "-4,also swallowed",
                ""));
        assertThat(run("produce", "documents", csv.toString(), "--task", task)).as(err)
                .isEqualTo(ExitCode.LINES_REJECTED);
        assertThat(out).contains("sent 1 documents")
                .contains("line 3: a quoted field opens on this line and is never closed");
    }

    @Test
    void aRowWithMoreFieldsThanTheHeaderIsRejectedAndTheRowsAfterItAreSent(@TempDir Path dir) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path csv = dir.resolve("docs.csv");
        Files.writeString(csv, String.join("\n",
                "id,text",
                run + "-1,fine",
                run + "-2,an unquoted, comma",
                run + "-3,after the bad row",
                ""));
        assertThat(run("produce", "documents", csv.toString(), "--task", task)).as(err)
                .isEqualTo(ExitCode.LINES_REJECTED);
        assertThat(out).contains("sent 2 documents").contains("rejected 1 line(s)")
                .contains("line 3: not a valid row: Too many entries");
    }

    @Test
    void aFileThatIsNotUtf8NamesTheLine(@TempDir Path dir) throws Exception {
        byte[] latin1 = "id,text\nd1,fine\nd2,caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1);
        Path csv = dir.resolve("docs.csv");
        Files.write(csv, latin1);
        assertThat(run("produce", "documents", csv.toString(), "--task", task)).isEqualTo(ExitCode.ERROR);
        assertThat(err.strip().lines()).singleElement().asString().contains("line 3").contains("UTF-8");

        Path jsonl = dir.resolve("docs.jsonl");
        Files.write(jsonl, "{\"id\": \"d1\", \"text\": \"caf\u00e9\"}\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(run("produce", "documents", jsonl.toString(), "--task", task)).isEqualTo(ExitCode.ERROR);
        assertThat(err.strip().lines()).singleElement().asString().contains("line 1").contains("UTF-8");
    }
}
