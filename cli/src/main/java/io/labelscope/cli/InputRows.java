package io.labelscope.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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

    /** @param header the header row's column names (CSV/TSV), or null (JSON Lines: each line names its own) */
    record Contents(List<Row> rows, List<Unreadable> unreadable, List<String> header) {
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
                + ".jsonl, or --format", ExitCode.USAGE);
    }

    static Contents read(Path file, Format format) {
        if (!Files.isRegularFile(file)) {
            throw new Labelscope.UserError("no such file: " + file, ExitCode.USAGE);
        }
        String text;
        try {
            text = readUtf8(file);
        } catch (IOException e) {
            throw new Labelscope.UserError("cannot read " + file + ": " + e.getMessage(), ExitCode.ERROR);
        }
        return format == Format.JSONL ? readJsonLines(text) : readDelimited(text, format == Format.TSV ? '\t' : ',');
    }

    /**
     * The file as text, failing with the line and byte of the first sequence that is not UTF-8 (a file saved as
     * Latin-1 or Windows-1252 is the usual case): decoding it leniently would send replacement characters, and
     * Java's own error does not say where. A leading byte-order mark (spreadsheet exports) is dropped.
     */
    static String readUtf8(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        // UTF-8 never decodes to more chars than it has bytes.
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            int at = in.position();
            long line = 1;
            int lineStart = 0;
            for (int i = 0; i < at; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            throw new Labelscope.UserError(String.format("%s line %d is not UTF-8 (byte 0x%02X at byte %d of the "
                    + "line): save the file as UTF-8", file, line, bytes[at] & 0xff, at - lineStart + 1),
                    ExitCode.ERROR);
        }
        out.flip();
        String text = out.toString();
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    private static Contents readDelimited(String text, char separator) {
        CsvMapper mapper = new CsvMapper();
        CsvSchema schema = CsvSchema.emptySchema().withHeader().withColumnSeparator(separator);
        List<Row> rows = new ArrayList<>();
        List<Unreadable> unreadable = new ArrayList<>();
        List<String> header = new ArrayList<>();
        try (MappingIterator<Map<String, String>> it = mapper.readerForMapOf(String.class).with(schema)
                .readValues(text)) {
            // Where the last malformed row left the parser; failing there again means it cannot get past it.
            long lastFailureOffset = -1;
            while (true) {
                long line = it.getCurrentLocation().getLineNr();
                try {
                    boolean more = it.hasNextValue();
                    if (header.isEmpty() && it.getParser().getSchema() instanceof CsvSchema read) {
                        // Known once the parser has read the header row.
                        read.forEach(column -> header.add(column.getName().trim()));
                    }
                    if (!more) {
                        break;
                    }
                    line = it.getCurrentLocation().getLineNr();
                    Map<String, String> cells = it.nextValue();
                    Map<String, JsonNode> fields = new LinkedHashMap<>();
                    cells.forEach((k, v) -> fields.put(k.trim(), mapper.getNodeFactory().textNode(v)));
                    rows.add(new Row(line, fields));
                } catch (IOException | RuntimeException e) {
                    long unclosed = unclosedQuoteLine(text, separator);
                    if (unclosed >= line) {
                        // The parser read from the quote to the end of the file as one field: nothing to go on with.
                        unreadable.add(new Unreadable(unclosed, "a quoted field opens on this line and is never "
                                + "closed, so the rest of the file was read as one field and nothing from here on "
                                + "was sent"));
                        break;
                    }
                    // A row with more fields than the header: the parser skips to the next row and goes on.
                    unreadable.add(new Unreadable(line, "not a valid row: " + firstLine(e)));
                    long failedAt = it.getCurrentLocation().getCharOffset();
                    if (failedAt == lastFailureOffset) {
                        break;
                    }
                    lastFailureOffset = failedAt;
                }
            }
        } catch (IOException e) {
            unreadable.add(new Unreadable(1, "not a valid header row: " + firstLine(e)));
        }
        // No header when the first row already failed to parse: then the reason is that row's, not the columns.
        return new Contents(rows, unreadable, header.isEmpty() && !unreadable.isEmpty() ? null : header);
    }

    /**
     * The line where a quoted field opens and never closes, or -1. A quote only opens a field at its start (as in
     * RFC 4180 and Jackson's parser); inside one, a doubled quote is a literal quote.
     */
    static long unclosedQuoteLine(String text, char separator) {
        boolean inQuotes = false;
        boolean atFieldStart = true;
        long line = 1;
        long openedOn = -1;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                line++;
            }
            if (inQuotes) {
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        i++;
                    } else {
                        inQuotes = false;
                    }
                }
            } else if (c == '"' && atFieldStart) {
                inQuotes = true;
                openedOn = line;
                atFieldStart = false;
            } else if (c == separator || c == '\n') {
                atFieldStart = true;
            } else if (c != '\r') {
                atFieldStart = false;
            }
        }
        return inQuotes ? openedOn : -1;
    }

    private static Contents readJsonLines(String text) {
        ObjectMapper json = new ObjectMapper();
        List<Row> rows = new ArrayList<>();
        List<Unreadable> unreadable = new ArrayList<>();
        List<String> lines = text.lines().toList();
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
                unreadable.add(new Unreadable(i + 1, "not valid JSON: " + firstLine(e)));
            }
        }
        return new Contents(rows, unreadable, null);
    }

    private static String firstLine(Exception e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.lines().findFirst().orElse("");
    }
}
