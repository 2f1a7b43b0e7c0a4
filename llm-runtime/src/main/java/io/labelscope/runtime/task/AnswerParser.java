package io.labelscope.runtime.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SPEC §2 answer parsing: the JSON list (fallback: substring match on the label names), lower-cased, in order, as
 * generated (repeats, {@code none} and unknown strings kept); or a comma list.
 */
public final class AnswerParser {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AnswerParser() {}

    public static List<String> parse(String answer, TaskDefinition task) {
        return switch (task.format()) {
            case JSON_LIST -> parseJson(answer, task);
            case COMMA_LIST -> parseComma(answer);
        };
    }

    static List<String> parseJson(String answer, TaskDefinition task) {
        List<String> out = tryJson(answer);
        return out != null ? out : substringMatch(answer, task);
    }

    private static List<String> tryJson(String answer) {
        int o = answer.indexOf('{');
        int c = answer.lastIndexOf('}');
        if (o >= 0 && c > o) {
            try {
                JsonNode n = JSON.readTree(answer.substring(o, c + 1));
                JsonNode list = n.get("label");
                if (list == null) {
                    for (JsonNode v : n) {
                        if (v.isArray()) {
                            list = v;
                            break;
                        }
                    }
                }
                if (list != null && list.isArray()) {
                    return elements(list);
                }
            } catch (Exception ignored) {
                // fall through
            }
        }
        int a = answer.indexOf('[');
        int b = answer.lastIndexOf(']');
        if (a >= 0 && b > a) {
            try {
                JsonNode n = JSON.readTree(answer.substring(a, b + 1));
                if (n.isArray()) {
                    return elements(n);
                }
            } catch (Exception ignored) {
                // fall through
            }
        }
        return null;
    }

    private static List<String> elements(JsonNode list) {
        List<String> out = new ArrayList<>();
        for (JsonNode v : list) {
            out.add((v.isTextual() ? v.asText() : v.toString()).trim().toLowerCase(Locale.ROOT));
        }
        return out;
    }

    /** Every whole-word occurrence of a label name or {@code none}, in text order. */
    static List<String> substringMatch(String answer, TaskDefinition task) {
        String lower = answer.toLowerCase(Locale.ROOT);
        TreeMap<Integer, String> found = new TreeMap<>();
        for (String l : task.scoredLabels()) {
            Matcher m = Pattern.compile("(?<![\\p{L}\\p{N}])" + Pattern.quote(l.toLowerCase(Locale.ROOT))
                    + "(?![\\p{L}\\p{N}])").matcher(lower);
            while (m.find()) {
                found.merge(m.start(), l.toLowerCase(Locale.ROOT), (x, y) -> x.length() >= y.length() ? x : y);
            }
        }
        return new ArrayList<>(found.values());
    }

    static List<String> parseComma(String answer) {
        String s = answer.strip();
        int nl = s.indexOf('\n');
        if (nl >= 0) {
            s = s.substring(0, nl);
        }
        List<String> out = new ArrayList<>();
        for (String p : s.split(",")) {
            String t = p.strip().replaceAll("^[\"'\\[]+|[\"'\\].]+$", "").strip().toLowerCase(Locale.ROOT);
            if (!t.isEmpty()) {
                out.add(t);
            }
        }
        return out;
    }

    /** The list element the model started writing at {@code charStart} of the answer (lower-cased), or null. */
    public static String elementAt(String answer, int charStart) {
        if (charStart >= answer.length()) {
            return null;
        }
        int i = charStart;
        while (i < answer.length() && (Character.isWhitespace(answer.charAt(i)) || answer.charAt(i) == '"')) {
            i++;
        }
        int j = i;
        while (j < answer.length() && "\",]}\n".indexOf(answer.charAt(j)) < 0) {
            j++;
        }
        String e = answer.substring(i, j).strip().toLowerCase(Locale.ROOT);
        return e.isEmpty() ? null : e;
    }

    /**
     * Whether a token written after {@code textBefore} starts an element of the answer list: inside the list (after
     * {@code [} and before {@code ]} for JSON; on the answer line for comma lists) and preceded, since the last
     * delimiter, only by white space and quotes. A later piece of a multi-token label (the {@code s} of
     * {@code sadness}) is therefore never a step, even when it is some label's first token.
     */
    public static boolean insideList(String textBefore, OutputFormat format) {
        int from;
        if (format == OutputFormat.JSON_LIST) {
            int open = textBefore.lastIndexOf('[');
            if (open < 0 || textBefore.lastIndexOf(']') > open) {
                return false;
            }
            from = Math.max(open, textBefore.lastIndexOf(',')) + 1;
        } else {
            String answer = textBefore.stripLeading();
            if (answer.indexOf('\n') >= 0) {
                return false;
            }
            from = textBefore.lastIndexOf(',') + 1;
        }
        for (int i = from; i < textBefore.length(); i++) {
            char c = textBefore.charAt(i);
            if (!Character.isWhitespace(c) && c != '"' && c != '\'') {
                return false;
            }
        }
        return true;
    }
}
