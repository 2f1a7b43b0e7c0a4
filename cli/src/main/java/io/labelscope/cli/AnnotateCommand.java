package io.labelscope.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

import io.labelscope.math.AnnotationPriority;
import io.labelscope.math.Conventions;
import io.labelscope.schemas.AnnotationRequest;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code labelscope annotate next}: the documents that most need one more annotation (issue #18,
 * docs/annotate-next.md), as a file an annotation tool loads. Reads the compacted {@code annotation-requests}
 * topic (the aggregator's default-strategy priorities, every partition: so the top n is global) and the
 * {@code documents} topic for the texts, both from the beginning to their end offsets (read_committed), and ranks
 * with paper-math's order (highest first, near-equal priorities by id, priority 0 left out).
 */
@Command(name = "annotate",
        mixinStandardHelpOptions = true,
        description = "Which documents most need another annotator (issue #18).",
        subcommands = {AnnotateCommand.Next.class})
final class AnnotateCommand {

    /** The CSV's columns: what an annotation tool imports (id, text, pre-selected labels), then the reason. */
    static final List<ExportCommand.Column> COLUMNS = List.of(
            new ExportCommand.Column("id", ExportCommand.Type.STRING, false),
            new ExportCommand.Column("text", ExportCommand.Type.STRING, false),
            new ExportCommand.Column("suggested_labels", ExportCommand.Type.STRING, false),
            new ExportCommand.Column("model", ExportCommand.Type.STRING, false),
            new ExportCommand.Column("priority", ExportCommand.Type.DOUBLE, false),
            new ExportCommand.Column("annotators", ExportCommand.Type.INT, false),
            new ExportCommand.Column("why", ExportCommand.Type.STRING, false));

    @Command(name = "next", mixinStandardHelpOptions = true,
            description = {"The top N documents of a task to annotate next under the default strategy (flip: the "
                    + "expected label decisions one more annotation changes), from annotation-requests, with "
                    + "their text from documents.",
                    "Without --csv a table is printed. Other strategies: GET /api/annotate/next?strategy= on the "
                            + "aggregator, or the dashboard's Annotate next panel."})
    static final class Next implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        KafkaOptions kafka;

        @Option(names = "--task", required = true, description = "The task.")
        String task;

        @Option(names = "--n", defaultValue = "50", description = "How many documents (default 50).")
        int n;

        @Option(names = "--model", description = "Only this model's requests (default: every model of the task).")
        String model;

        @Option(names = "--csv", paramLabel = "FILE",
                description = "Write id,text,suggested_labels (';'-separated),model,priority,annotators,why here "
                        + "(replaced).")
        Path csv;

        @Override
        public Integer call() throws IOException {
            if (n < 1) {
                throw new Labelscope.UserError("--n must be at least 1, was " + n, ExitCode.USAGE);
            }
            if (csv != null && csv.getParent() != null && !Files.isDirectory(csv.getParent())) {
                throw new Labelscope.UserError("no such directory: " + csv.getParent(), ExitCode.USAGE);
            }
            kafka.requireBroker();
            kafka.requireRegistry();
            List<AnnotationRequest> top = top(latestRequests(), n);
            Map<String, String> texts = texts(top.stream().map(AnnotationRequest::getDocumentId)
                    .collect(Collectors.toSet()));
            List<Object[]> rows = new ArrayList<>();
            for (AnnotationRequest r : top) {
                rows.add(new Object[] {r.getDocumentId(), texts.getOrDefault(r.getDocumentId(), ""),
                        String.join(";", r.getSuggestedLabels()), r.getModel(), r.getPriority(), r.getAnnotators(),
                        r.getWhy()});
            }
            PrintWriter out = spec.commandLine().getOut();
            long withoutText = top.stream().filter(r -> !texts.containsKey(r.getDocumentId())).count();
            if (csv != null) {
                ExportCommand.writeCsv(new ExportCommand.Table("annotate-next", COLUMNS, rows), csv);
                out.printf("wrote %d documents of task '%s' to annotate next to %s%n", rows.size(), task, csv);
            } else {
                print(out, rows);
            }
            if (withoutText > 0) {
                // Retention may have deleted a document's record from documents; the request is still listed.
                spec.commandLine().getErr().printf("%d of them have no text on topic %s (empty text)%n",
                        withoutText, Topics.DOCUMENTS);
            }
            out.flush();
            return 0;
        }

        /** The latest request per document and model of the task (and model). */
        private List<AnnotationRequest> latestRequests() {
            Map<String, AnnotationRequest> latest = new HashMap<>();
            for (Object v : ExportCommand.readToEnd(kafka, Topics.ANNOTATION_REQUESTS)) {
                if (v instanceof AnnotationRequest r && r.getTask().equals(task)
                        && (model == null || model.equals(r.getModel()))) {
                    latest.put(r.getModel() + "|" + r.getDocumentId(), r);
                }
            }
            return new ArrayList<>(latest.values());
        }

        /** The texts of these documents of the task, the latest record of each. */
        private Map<String, String> texts(Set<String> ids) {
            Map<String, String> texts = new HashMap<>();
            if (ids.isEmpty()) {
                return texts;
            }
            for (Object v : ExportCommand.readToEnd(kafka, Topics.DOCUMENTS)) {
                if (v instanceof Document d && ids.contains(d.getId()) && task.equals(d.getTask())) {
                    texts.put(d.getId(), d.getText());
                }
            }
            return texts;
        }
    }

    /** paper-math's "annotate next" order over the requests (ties by id, then model, as the aggregator's API). */
    static List<AnnotationRequest> top(List<AnnotationRequest> requests, int n) {
        List<AnnotationRequest> byId = new ArrayList<>(requests);
        byId.sort(Comparator.comparing(AnnotationRequest::getDocumentId).thenComparing(AnnotationRequest::getModel));
        return AnnotationPriority.rank(byId, AnnotationRequest::getDocumentId, AnnotationRequest::getPriority, n,
                Conventions.paper());
    }

    private static void print(PrintWriter out, List<Object[]> rows) {
        out.printf("%-24s %9s %10s  %-24s %s%n", "id", "priority", "annotators", "suggested", "text");
        for (Object[] r : rows) {
            String text = String.valueOf(r[1]).replaceAll("\\s+", " ");
            out.printf(Locale.ROOT, "%-24s %9.4f %10d  %-24s %s%n", r[0], (Double) r[4], (Integer) r[5],
                    ((String) r[2]).replace(";", ", "), text.length() > 60 ? text.substring(0, 59) + "…" : text);
        }
    }

    private AnnotateCommand() {
    }
}
