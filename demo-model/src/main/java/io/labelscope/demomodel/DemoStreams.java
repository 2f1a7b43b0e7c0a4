package io.labelscope.demomodel;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

/**
 * Writes the data that {@code ./labelscope demo} streams: documents and annotator events for both demo tasks, as
 * JSON Lines in the columns of {@code labelscope produce} ({@code id, text}; {@code document_id, annotator_id,
 * labels}).
 *
 * <p>Where the annotator events come from, honestly:
 * <ul>
 *   <li>GoEmotions: the only real per-annotator labels available are the authors' 45-comment set (raters 4, 37 and
 *       61, in the 7 clusters). Those 45 comments stream first, with their three annotators; the dev split follows
 *       without annotators (its aggregated gold is not a per-annotator vote), so those documents show generation
 *       dynamics but no alignment.</li>
 *   <li>MFRC: the authors' 45-text per-annotator set first, then the held-out (test) texts with annotator label
 *       sets derived from the per-label vote counts by {@link DemoData#mfrcAnnotators} (assumption documented
 *       there: n = max(3, the smallest annotator count consistent with the votes)).</li>
 * </ul>
 * Run: {@code java -cp … io.labelscope.demomodel.DemoStreams data demo/streams}.
 */
public final class DemoStreams {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long SEED = 20251126L;

    private DemoStreams() {
    }

    public static void main(String[] args) throws IOException {
        Path data = Path.of(args.length > 0 ? args[0] : "data");
        Path out = Path.of(args.length > 1 ? args[1] : "demo/streams");
        Files.createDirectories(out);

        Stream goemotions = new Stream();
        Set<String> demoIds = annotatorSet(data.resolve("goemotions/goemotions_demos.csv"), "", goemotions);
        for (DemoData.Doc doc : DemoData.goemotions(data, "dev")) {
            if (!demoIds.contains(doc.id())) {
                goemotions.document(doc.id(), doc.text());
            }
        }
        goemotions.write(out, "goemotions");

        Stream mfrc = new Stream();
        annotatorSet(data.resolve("mfrc/mfrc_demos.csv"), "mfrc-demo-", mfrc);
        for (DemoData.Doc doc : DemoData.mfrc(data, "test", SEED)) {
            mfrc.document(doc.id(), doc.text());
            for (int a = 0; a < doc.annotators().size(); a++) {
                mfrc.annotation(doc.id(), "derived-" + a, doc.annotators().get(a));
            }
        }
        mfrc.write(out, "mfrc");
        System.out.printf("goemotions: %d documents, %d annotations; mfrc: %d documents, %d annotations -> %s%n",
                goemotions.documents.size(), goemotions.annotations.size(), mfrc.documents.size(),
                mfrc.annotations.size(), out);
    }

    /**
     * Reads one of the authors' per-annotator CSVs ({@code id = <text id>__<rater>}, {@code label} a Python-list
     * string of label names); the {@code __aggregate} rows are their majority, not a person, and are skipped.
     *
     * @return the ids of the documents it added
     */
    static Set<String> annotatorSet(Path csv, String idPrefix, Stream stream) {
        CsvMapper mapper = new CsvMapper();
        Set<String> ids = new LinkedHashSet<>();
        try (Reader reader = Files.newBufferedReader(csv, StandardCharsets.UTF_8);
                MappingIterator<Map<String, String>> rows = mapper.readerForMapOf(String.class)
                        .with(CsvSchema.emptySchema().withHeader()).readValues(reader)) {
            while (rows.hasNext()) {
                Map<String, String> row = rows.next();
                String[] idAndRater = row.get("id").split("__", 2);
                String id = idPrefix + idAndRater[0];
                if (ids.add(id)) {
                    stream.document(id, row.get("text").strip());
                }
                if (!idAndRater[1].equals("aggregate")) {
                    String rater = idAndRater[1].matches("\\d+") ? "rater-" + idAndRater[1] : idAndRater[1];
                    stream.annotation(id, rater, pythonList(row.get("label")));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ids;
    }

    /** {@code ['care', 'Loyalty']} → [care, loyalty]. */
    static List<String> pythonList(String text) {
        List<String> labels = new ArrayList<>();
        String inner = text.strip();
        if (!inner.startsWith("[") || !inner.endsWith("]")) {
            throw new IllegalArgumentException("not a list of labels: " + text);
        }
        for (String part : inner.substring(1, inner.length() - 1).split(",")) {
            String label = part.strip().replaceAll("^['\"]|['\"]$", "").toLowerCase(Locale.ROOT);
            if (!label.isEmpty()) {
                labels.add(label);
            }
        }
        return labels;
    }

    /** Documents and annotations of one task, in streaming order. */
    static final class Stream {
        final Map<String, String> documents = new LinkedHashMap<>();
        final List<ObjectNode> annotations = new ArrayList<>();

        void document(String id, String text) {
            documents.putIfAbsent(id, text);
        }

        void annotation(String documentId, String annotatorId, List<String> labels) {
            ObjectNode a = JSON.createObjectNode().put("document_id", documentId).put("annotator_id", annotatorId);
            labels.forEach(a.putArray("labels")::add);
            if (labels.isEmpty()) {
                a.putArray("labels");
            }
            annotations.add(a);
        }

        void write(Path dir, String task) throws IOException {
            try (Writer docs = Files.newBufferedWriter(dir.resolve(task + "-documents.jsonl"));
                    Writer notes = Files.newBufferedWriter(dir.resolve(task + "-annotations.jsonl"))) {
                for (Map.Entry<String, String> d : documents.entrySet()) {
                    docs.write(JSON.createObjectNode().put("id", d.getKey()).put("text", d.getValue()).toString());
                    docs.write('\n');
                }
                for (ObjectNode a : annotations) {
                    notes.write(a.toString());
                    notes.write('\n');
                }
            }
        }
    }
}
