package io.labelscope.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

/**
 * Rows of a CSV, TSV or JSON Lines file, each with the line it starts on, so rejected input can be reported by line
 * number. The format comes from the file's extension unless given.
 */
final class InputRows {

    enum Format { CSV, TSV, JSONL }

    /** One input row: its fields (CSV cells are text; JSONL values keep their JSON type). */
    record Row(long line, Map<String, JsonNode> fields) {

        String text(String name) {
            JsonNode value = fields.get(name);
            return value == null || value.isNull() ? null : value.isTextual() ? value.textValue() : value.toString();
        }
    }

    /** A row that could not be read at all, with why. */
    record Unreadable(long line, String reason) {
    }

    record Contents(List<Row> rows, List<Unreadable> unreadable) {
    }

    private InputRows() {
    }

    static Format formatOf(Path file, Format given) {
        if (given != null) {
            return given;
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".tsv") || name.endsWith(".tab")) {
            return Format.TSV;
        }
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
            return Format.JSONL;
        }
        if (name.endsWith(".csv")) {
            return Format.CSV;
        }
        throw new Labelscope.UserError("cannot tell the format of " + file + " from its name: use .csv, .tsv or "
                + ".jsonl, or --format", 2);
    }

    static Contents read(Path file, Format format) {
        if (!Files.isRegularFile(file)) {
            throw new Labelscope.UserError("no such file: " + file, 2);
        }
        try {
            return format == Format.JSONL ? readJsonLines(file) : readDelimited(file, format == Format.TSV ? '\t' : ',');
        } catch (IOException e) {
            throw new Labelscope.UserError("cannot read " + file + ": " + e.getMessage(), 1);
        }
    }

    private static Contents readDelimited(Path file, char separator) throws IOException {
        CsvMapper mapper = new CsvMapper();
        CsvSchema schema = CsvSchema.emptySchema().withHeader().withColumnSeparator(separator);
        List<Row> rows = new ArrayList<>();
        List<Unreadable> unreadable = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file);
                MappingIterator<Map<String, String>> it = mapper.readerForMapOf(String.class).with(schema)
                        .readValues(reader)) {
            while (true) {
                long line = it.getCurrentLocation().getLineNr();
                try {
                    if (!it.hasNextValue()) {
                        break;
                    }
                    line = it.getCurrentLocation().getLineNr();
                    Map<String, String> cells = it.nextValue();
                    Map<String, JsonNode> fields = new LinkedHashMap<>();
                    cells.forEach((k, v) -> fields.put(k.trim(), mapper.getNodeFactory().textNode(v)));
                    rows.add(new Row(line, fields));
                } catch (RuntimeException e) {
                    unreadable.add(new Unreadable(line, "not a valid row: " + e.getMessage().lines().findFirst()
                            .orElse("")));
                    break;
                }
            }
        }
        return new Contents(rows, unreadable);
    }

    private static Contents readJsonLines(Path file) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Row> rows = new ArrayList<>();
        List<Unreadable> unreadable = new ArrayList<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            try {
                JsonNode node = json.readTree(line);
                if (!node.isObject()) {
                    unreadable.add(new Unreadable(i + 1, "not a JSON object"));
                    continue;
                }
                Map<String, JsonNode> fields = new LinkedHashMap<>();
                node.fields().forEachRemaining(e -> fields.put(e.getKey(), e.getValue()));
                rows.add(new Row(i + 1, fields));
            } catch (IOException e) {
                unreadable.add(new Unreadable(i + 1, "not valid JSON: " + e.getMessage().lines().findFirst().orElse("")));
            }
        }
        return new Contents(rows, unreadable);
    }
}
