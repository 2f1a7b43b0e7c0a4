package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.labelscope.cli.PackagedLabelscope.Result;

/**
 * The README's "Use it with your own data" section, command by command as it is written (only file names and
 * ports differ), on a fresh home with the packaged command line and services: a four-label task written here,
 * {@code up --model} with a committed demo checkpoint, 20 documents and three annotators' votes, the distributions
 * read back by Confluent's Python client under read_committed (Debian's python3-confluent-kafka), {@code export
 * --as eval} + {@code eval} reproducing the live per-document figures to 1e-9, the refusals {@code produce} makes
 * before sending, and a record a service rejected shown by {@code tail dead-letters}.
 */
class OwnDataEndToEndIT {

    static final String PYTHON = System.getProperty("labelscope.python", "/usr/bin/python3");
    private static final String TASK = "stance";
    /** The committed demo checkpoint, as a relative path from the checkout like the README's commands. */
    private static final String MODEL = "models/demo/goemotions";
    private static final List<String> LABELS = List.of("support", "oppose", "question", "joke");
    private static final int DOCUMENTS = 20;
    private static final List<String> ANNOTATORS = List.of("ann-a", "ann-b", "ann-c");
    /** Start-up on a loaded, shared 2-core machine (the broker, registry, worker and aggregator in turn). */
    private static final Duration UP_BOUND = Duration.ofMinutes(5);
    private static final Duration COMMAND_BOUND = Duration.ofSeconds(90);
    /** From the last annotation sent to every document's distribution counting all three annotators. */
    private static final Duration DISTRIBUTIONS_BOUND = Duration.ofSeconds(150);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path home;
    @TempDir
    Path files;

    private PackagedLabelscope cli;

    @BeforeEach
    void freshHome() throws Exception {
        cli = new PackagedLabelscope(home);
    }

    @AfterEach
    void down() throws Exception {
        cli.run(Duration.ofMinutes(3), "down");
    }

    @Test
    void theReadmesOwnDataSectionWorksAsWritten() throws Exception {
        Path taskFile = Files.writeString(files.resolve("my-task.json"), """
                {
                  "name": "stance",
                  "labels": ["support", "oppose", "question", "joke"],
                  "instruction": "Classify each comment as none, one or several of these stances towards the post: {labels}. Output exactly these stances and no others.\\n",
                  "demo_template": "Input: {text}\\n{answer}\\n",
                  "query_template": "Input: {text}",
                  "format": "json_list",
                  "k": 0,
                  "demos": [],
                  "max_new_tokens": 32
                }
                """);
        List<String> ids = IntStream.rangeClosed(1, DOCUMENTS).mapToObj(i -> String.format("c%02d", i)).toList();
        List<String> csv = new ArrayList<>(List.of("id,text"));
        for (int i = 0; i < DOCUMENTS; i++) {
            csv.add(ids.get(i) + ",\"Comment " + (i + 1) + ": I " + (i % 2 == 0 ? "agree, great idea" : "doubt it, why?")
                    + " lol\"");
        }
        Path docs = Files.write(files.resolve("docs.csv"), csv);
        // Three annotators per document; the votes differ so the human distributions are not all alike, and one
        // annotator says "no label" ([]) now and then.
        List<String> votes = new ArrayList<>();
        for (int i = 0; i < DOCUMENTS; i++) {
            for (int a = 0; a < ANNOTATORS.size(); a++) {
                int pick = (i + a) % (LABELS.size() + 1);
                String labels = pick == LABELS.size() ? "[]"
                        : "[\"" + LABELS.get(pick) + "\"" + ((i + a) % 3 == 0 ? ", \"" + LABELS.get((pick + 1) % 4)
                                + "\"" : "") + "]";
                votes.add("{\"document_id\": \"" + ids.get(i) + "\", \"annotator_id\": \"" + ANNOTATORS.get(a)
                        + "\", \"labels\": " + labels + "}");
            }
        }
        Path votesFile = Files.write(files.resolve("votes.jsonl"), votes);

        Result up = cli.run(UP_BOUND, "up", "--model", MODEL);
        assertThat(up.exit()).as(up.output()).isZero();
        Result inspect = cli.run(COMMAND_BOUND, "model", "inspect", MODEL, "--task", taskFile.toString());
        assertThat(inspect.exit()).as(inspect.output()).isZero();
        assertThat(inspect.output()).contains("LlamaForCausalLM").contains("joke");
        Result register = cli.run(COMMAND_BOUND, "task", "register", taskFile.toString());
        assertThat(register.exit()).as(register.output()).isZero();
        assertThat(register.output()).as("the running worker's default model serves it: no warning")
                .doesNotContainIgnoringCase("warning");
        Result list = cli.run(COMMAND_BOUND, "task", "list");
        System.out.println("task list:\n" + list.output().strip());
        assertThat(list.output().lines().filter(line -> line.startsWith(TASK + "\t")))
                .as("the task is listed with the model that serves it: " + list.output()).singleElement()
                .asString().contains("model=(default)");
        Result render = cli.run(COMMAND_BOUND, "task", "show", TASK, "--render", "--model", MODEL);
        assertThat(render.exit()).as(render.output()).isZero();
        assertThat(render.output()).contains("support, oppose, question and joke").contains("tokens");

        // The CLI's refusals, before anything of them is sent.
        Result typo = cli.run(COMMAND_BOUND, "produce", "documents", docs.toString(), "--task", "typo");
        System.out.println("produce documents --task typo: exit " + typo.exit() + ": " + typo.output().strip());
        assertThat(typo.exit()).as(typo.output()).isEqualTo(1);
        assertThat(typo.output().strip()).as("one line naming the registered tasks").doesNotContain("\n")
                .contains("typo").contains(TASK);
        Path noText = Files.write(files.resolve("no-text.csv"), List.of("id,body", "x1,hello"));
        Result header = cli.run(COMMAND_BOUND, "produce", "documents", noText.toString(), "--task", TASK);
        System.out.println("a CSV without text: exit " + header.exit() + ": " + header.output().strip());
        assertThat(header.exit()).as(header.output()).isEqualTo(1);
        assertThat(header.output()).contains("text");

        Result sentDocs = cli.run(COMMAND_BOUND, "produce", "documents", docs.toString(), "--task", TASK);
        assertThat(sentDocs.exit()).as(sentDocs.output()).isZero();
        Result sentVotes = cli.run(COMMAND_BOUND, "produce", "annotations", votesFile.toString(), "--task", TASK);
        assertThat(sentVotes.exit()).as(sentVotes.output()).isZero();

        // A label outside the task's label set: that line is listed, the others are sent, exit 4 (documented).
        Path badVotes = Files.write(files.resolve("bad-votes.jsonl"), List.of(
                "{\"document_id\": \"c01\", \"annotator_id\": \"ann-d\", \"labels\": [\"support\"]}",
                "{\"document_id\": \"c02\", \"annotator_id\": \"ann-d\", \"labels\": [\"sarcasm\"]}"));
        Result bad = cli.run(COMMAND_BOUND, "produce", "annotations", badVotes.toString(), "--task", TASK);
        System.out.println("a label outside the set: exit " + bad.exit() + ": " + bad.output().strip());
        assertThat(bad.exit()).as(bad.output()).isEqualTo(4);
        assertThat(bad.output()).contains("sent 1 annotations")
                .contains("line 2: label 'sarcasm' is not a label of task 'stance'");

        // The distributions, as a Python user's Confluent client reads them: c01 has a fourth annotator now.
        Map<String, Integer> expectedAnnotators = new HashMap<>();
        ids.forEach(id -> expectedAnnotators.put(id, ANNOTATORS.size()));
        expectedAnnotators.put("c01", ANNOTATORS.size() + 1);
        Map<String, JsonNode> live = readDistributionsWithPython(expectedAnnotators);
        assertThat(live.keySet()).containsExactlyInAnyOrderElementsOf(ids);
        for (JsonNode d : live.values()) {
            // The README's snippets read methods.max_over_generations' predicted, nll and example_f1.
            JsonNode mog = d.at("/methods/max_over_generations");
            assertThat(mog.isObject()).as(d.toString()).isTrue();
            assertThat(mog.get("nll").isNumber()).as("metrics once annotated: " + d).isTrue();
        }
        Result tailDistributions = cli.run(COMMAND_BOUND, "tail", "distributions", "--task", TASK,
                "--from-beginning", "--idle-timeout", "10");
        assertThat(tailDistributions.exit()).as(tailDistributions.output()).isZero();
        assertThat(tailDistributions.output()).contains("c01").contains("c20");
        Result alignment = cli.run(COMMAND_BOUND, "tail", "alignment", "--task", TASK, "--from-beginning",
                "--idle-timeout", "10");
        assertThat(alignment.exit()).as(alignment.output()).isZero();
        assertThat(alignment.output()).contains(TASK).contains("max_over_generations");
        Path parquet = files.resolve("dist.parquet");
        Result exportParquet = cli.run(COMMAND_BOUND, "export", "distributions", "--task", TASK, "--format",
                "parquet", "--out", parquet.toString());
        assertThat(exportParquet.exit()).as(exportParquet.output()).isZero();
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:");
                Statement query = duck.createStatement();
                ResultSet rs = query.executeQuery("SELECT count(DISTINCT document_id), min(annotators), "
                        + "count(DISTINCT label) FROM read_parquet('" + parquet + "')")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(DOCUMENTS);
            assertThat(rs.getInt(2)).isEqualTo(ANNOTATORS.size());
            assertThat(rs.getInt(3)).isEqualTo(LABELS.size());
        }

        // Offline: the inputs behind those distributions reproduce them.
        Path recorded = files.resolve("recorded.json");
        Result export = cli.run(COMMAND_BOUND, "export", "distributions", "--task", TASK, "--as", "eval", "--out",
                recorded.toString());
        assertThat(export.exit()).as(export.output()).isZero();
        Result eval = cli.run(COMMAND_BOUND, "eval", recorded.toString());
        assertThat(eval.exit()).as(eval.output()).isZero();
        JsonNode offline = JSON.readTree(eval.output().substring(eval.output().indexOf('{')));
        assertThat(offline.get("documents")).hasSize(DOCUMENTS);
        for (JsonNode doc : offline.get("documents")) {
            JsonNode distribution = live.get(doc.get("id").asText());
            assertThat(doc.get("n_annotators").asInt()).isEqualTo(distribution.get("annotators").asInt());
            for (Iterator<Map.Entry<String, JsonNode>> methods = distribution.get("methods").fields();
                    methods.hasNext();) {
                Map.Entry<String, JsonNode> method = methods.next();
                String where = doc.get("id").asText() + " " + method.getKey();
                JsonNode mine = doc.at("/methods/" + method.getKey());
                assertThat(mine.isMissingNode()).as(where + " in eval's output").isFalse();
                for (String label : LABELS) {
                    assertThat(mine.at("/dist/" + label).asDouble()).as(where + " " + label)
                            .isCloseTo(method.getValue().at("/distribution/" + label).asDouble(), within(1e-9));
                }
                for (String metric : List.of("nll", "l1", "example_f1")) {
                    assertThat(mine.get(metric).asDouble()).as(where + " " + metric)
                            .isCloseTo(method.getValue().get(metric).asDouble(), within(1e-9));
                }
            }
        }

        // A record that passes the CLI's checks but a service rejects: an annotation of c03 for another registered
        // task (goemotions, registered by `up`) is dead-lettered by the aggregator as task_mismatch.
        Path mismatch = Files.write(files.resolve("mismatch.jsonl"), List.of(
                "{\"document_id\": \"c03\", \"annotator_id\": \"ann-e\", \"labels\": [\"joy\"]}"));
        Result sentMismatch = cli.run(COMMAND_BOUND, "produce", "annotations", mismatch.toString(), "--task",
                "goemotions");
        assertThat(sentMismatch.exit()).as(sentMismatch.output()).isZero();
        Result deadLetters = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            deadLetters = cli.run(COMMAND_BOUND, "tail", "dead-letters", "--from-beginning", "--idle-timeout", "10");
            if (deadLetters.output().contains("task_mismatch")) {
                break;
            }
        }
        System.out.println("tail dead-letters:\n" + deadLetters.output().strip());
        assertThat(deadLetters.exit()).as(deadLetters.output()).isZero();
        assertThat(deadLetters.output()).contains("task_mismatch").contains("c03").contains("annotations");
        System.out.printf("own-data end to end: %d documents, load %s%n", DOCUMENTS,
                Files.readString(Path.of("/proc/loadavg")).trim());
    }

    /** Every document's latest distribution, read by the Python client once each has its expected annotators. */
    private Map<String, JsonNode> readDistributionsWithPython(Map<String, Integer> expectedAnnotators)
            throws Exception {
        assertThat(Path.of(PYTHON)).as("Debian's python3 with python3-confluent-kafka, python3-avro and "
                + "python3-requests (run .ci/install-system-packages; another interpreter: -Dlabelscope.python=…)")
                .isExecutable();
        Path script = Path.of(getClass().getResource("/python/read_distributions.py").toURI());
        Path expected = Files.writeString(files.resolve("expected-annotators.json"),
                JSON.writeValueAsString(expectedAnnotators));
        Path out = files.resolve("distributions.jsonl");
        Path log = files.resolve("python.log");
        Process p = new ProcessBuilder(PYTHON, script.toString(), "--bootstrap-servers", cli.bootstrapServers(),
                "--registry-url", cli.confluentRegistryUrl(), "--task", TASK, "--expected", expected.toString(),
                "--out", out.toString(), "--timeout-s", Long.toString(DISTRIBUTIONS_BOUND.toSeconds()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(DISTRIBUTIONS_BOUND.toSeconds() + 30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the Python consumer did not finish:\n" + Files.readString(log));
        }
        assertThat(p.exitValue()).as("the Python consumer's exit status; its output:\n" + Files.readString(log))
                .isZero();
        System.out.print(Files.readString(log));
        Map<String, JsonNode> latest = new HashMap<>();
        for (String line : Files.readAllLines(out)) {
            JsonNode d = JSON.readTree(line);
            latest.put(d.get("document_id").asText(), d);
        }
        return latest;
    }
}
