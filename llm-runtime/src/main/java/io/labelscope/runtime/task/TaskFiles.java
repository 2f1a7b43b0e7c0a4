package io.labelscope.runtime.task;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Task definitions as JSON: the format of {@code tasks/*.json} files and of the values on the {@code tasks} topic.
 *
 * <pre>{@code
 * {
 *   "name": "goemotions",                       required
 *   "labels": ["joy", "optimism", ...],         required, instruction order, no "none"
 *   "instruction": "... {labels} ...\n",        default TaskDefinition.DEFAULT_INSTRUCTION
 *   "demo_template": "Input: {text}\n{answer}\n",  default TaskDefinition.DEFAULT_DEMO
 *   "query_template": "Input: {text}",          default TaskDefinition.DEFAULT_QUERY
 *   "format": "json_list" | "comma_list",       default json_list
 *   "k": 10, "seed": 0,                         demos shown (sampled with the seed from "demos"); default 0, 0
 *   "demos": [{"text": "...", "labels": ["joy"]}, ...],   default []
 *   "variants": {"joy": ["Joyful"]},            extra surface forms per label; default {}
 *   "compat": "paper" | "code",                 default paper
 *   "max_new_tokens": 48,                       default 48
 *   "methods": ["generate", "unary", "binary"], what runs per document; default ["generate"]
 *   "unary": {                                  the unary breakdown prompt; every key optional
 *     "instruction": "...",                     default Breakdown.DEFAULT_UNARY_INSTRUCTION
 *     "template": "... {text} ... {label} ... {answer}\n\n",   default Breakdown.DEFAULT_UNARY_TEMPLATE
 *     "options": ["reasonable", "unreasonable"] the two answer words (yes first)
 *   },
 *   "binary": {                                 the binary breakdown prompt; every key optional
 *     "instruction": "...",                     default Breakdown.DEFAULT_BINARY_INSTRUCTION
 *     "template": "... {text} ... {a} ... {b} ... {answer}\n\n", default Breakdown.DEFAULT_BINARY_TEMPLATE
 *     "options": ["a", "b"],                    the answer words naming the first and the second label shown
 *     "pair_order": "none_first" | "labels_first"   which item of a pair is shown first; default none_first
 *   },
 *   "breakdown_k": 0,                           demo blocks per breakdown prompt (from "demos", with "seed")
 *   "prompt_format": "plain" | "chat",          plain text (default) or the checkpoint's chat template
 *   "chat": {                                   chat settings (PromptFormat); every key optional
 *     "demos": "turns" | "inline",              demos as earlier user/assistant turns (default) or in the user message
 *     "instruction": "system" | "user"          instruction as the system message (default) or atop the first user one
 *   },
 *   "model": "my-model"                         the checkpoint to run on: a directory name under the worker's models
 *                                               directory, or a path (ModelDirs); absent = the worker's default model
 * }
 * }</pre>
 * Unknown keys are an error (a typo must not silently fall back to a default). Writing and reading back gives an
 * equal {@link TaskDefinition}. The breakdown keys are written only when they matter (a breakdown method runs, or
 * they differ from the defaults), so a generate-only task has the same canonical JSON, and the same run ids, as
 * before they existed; likewise {@code prompt_format} and {@code chat} are written only for a chat task, and
 * {@code model} only when the task names one.
 */
public final class TaskFiles {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Set<String> KEYS = Set.of("name", "labels", "instruction", "demo_template", "query_template",
            "format", "k", "seed", "demos", "variants", "compat", "max_new_tokens", "methods", "unary", "binary",
            "breakdown_k", "prompt_format", "chat", "model");
    private static final Set<String> UNARY_KEYS = Set.of("instruction", "template", "options");
    private static final Set<String> BINARY_KEYS = Set.of("instruction", "template", "options", "pair_order");
    private static final Set<String> CHAT_KEYS = Set.of("demos", "instruction");

    private TaskFiles() {}

    /** Reads one task file; errors name the file and what is wrong. */
    public static TaskDefinition read(Path file) throws IOException {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public static void write(Path file, TaskDefinition task) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toJson(task) + "\n", StandardCharsets.UTF_8);
    }

    /** Parses a task definition from JSON text; throws {@link IllegalArgumentException} saying what is wrong. */
    public static TaskDefinition parse(String json) {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("a task definition is a JSON object");
        }
        checkKeys(root, KEYS, "");
        String name = text(root, "name", null);
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("'name' is required");
        }
        List<String> labels = strings(root.get("labels"), "labels");
        List<Demo> demos = new ArrayList<>();
        JsonNode d = root.get("demos");
        if (d != null && !d.isNull()) {
            if (!d.isArray()) {
                throw new IllegalArgumentException("'demos' must be a list of {\"text\", \"labels\"}");
            }
            int i = 0;
            for (JsonNode demo : d) {
                String t = text(demo, "text", null);
                if (t == null) {
                    throw new IllegalArgumentException("demos[" + i + "] has no 'text'");
                }
                demos.add(new Demo(t, demo.has("labels") ? strings(demo.get("labels"), "demos[" + i + "].labels") : List.of()));
                i++;
            }
        }
        Map<String, List<String>> variants = new LinkedHashMap<>();
        JsonNode v = root.get("variants");
        if (v != null && !v.isNull()) {
            if (!v.isObject()) {
                throw new IllegalArgumentException("'variants' must map a label to a list of surface forms");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!labels.contains(e.getKey()) && !e.getKey().equals(TaskDefinition.NONE)) {
                    throw new IllegalArgumentException("variants for '" + e.getKey() + "', which is not a label");
                }
                variants.put(e.getKey(), strings(e.getValue(), "variants." + e.getKey()));
            }
        }
        OutputFormat format = switch (text(root, "format", "json_list").toLowerCase(Locale.ROOT)) {
            case "json_list", "json" -> OutputFormat.JSON_LIST;
            case "comma_list", "comma" -> OutputFormat.COMMA_LIST;
            default -> throw new IllegalArgumentException("'format' must be json_list or comma_list, got "
                    + root.get("format"));
        };
        boolean compatCode = switch (text(root, "compat", "paper").toLowerCase(Locale.ROOT)) {
            case "paper" -> false;
            case "code" -> true;
            default -> throw new IllegalArgumentException("'compat' must be paper or code, got " + root.get("compat"));
        };
        return new TaskDefinition(name, labels,
                text(root, "instruction", TaskDefinition.DEFAULT_INSTRUCTION),
                text(root, "demo_template", TaskDefinition.DEFAULT_DEMO),
                text(root, "query_template", TaskDefinition.DEFAULT_QUERY),
                format, (int) integer(root, "k", 0), integer(root, "seed", 0), demos, variants, compatCode,
                (int) integer(root, "max_new_tokens", 48), breakdown(root), promptFormat(root),
                text(root, "model", null));
    }

    private static PromptFormat promptFormat(JsonNode root) {
        PromptFormat d = PromptFormat.plain();
        PromptFormat.Style style = PromptFormat.parse(PromptFormat.Style.class, "prompt_format",
                text(root, "prompt_format", PromptFormat.wire(d.style())));
        JsonNode c = object(root, "chat", CHAT_KEYS);
        if (style == PromptFormat.Style.PLAIN && c.size() > 0) {
            throw new IllegalArgumentException("'chat' settings need \"prompt_format\": \"chat\"");
        }
        return new PromptFormat(style,
                PromptFormat.parse(PromptFormat.ChatDemos.class, "chat.demos",
                        text(c, "demos", PromptFormat.wire(d.demos()))),
                PromptFormat.parse(PromptFormat.ChatInstruction.class, "chat.instruction",
                        text(c, "instruction", PromptFormat.wire(d.instruction()))));
    }

    private static void checkKeys(JsonNode node, Set<String> known, String where) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) {
                throw new IllegalArgumentException("unknown key '" + where + k + "' (known: "
                        + new java.util.TreeSet<>(known) + ")");
            }
        }
    }

    private static Breakdown breakdown(JsonNode root) {
        Breakdown d = Breakdown.defaults();
        List<TaskMethod> methods = d.methods();
        if (root.hasNonNull("methods")) {
            methods = new ArrayList<>();
            for (String m : strings(root.get("methods"), "methods")) {
                methods.add(TaskMethod.fromWireName(m));
            }
        }
        JsonNode u = object(root, "unary", UNARY_KEYS);
        JsonNode b = object(root, "binary", BINARY_KEYS);
        String[] uo = options(u, "unary.options", d.reasonable(), d.unreasonable());
        String[] bo = options(b, "binary.options", d.optionA(), d.optionB());
        PairOrder order = switch (text(b, "pair_order", d.pairOrder().wireName()).toLowerCase(Locale.ROOT)) {
            case "none_first" -> PairOrder.NONE_FIRST;
            case "labels_first" -> PairOrder.LABELS_FIRST;
            default -> throw new IllegalArgumentException("'binary.pair_order' must be none_first or labels_first, got "
                    + b.get("pair_order"));
        };
        return new Breakdown(methods, text(u, "instruction", d.unaryInstruction()), text(u, "template", d.unaryTemplate()),
                uo[0], uo[1], text(b, "instruction", d.binaryInstruction()), text(b, "template", d.binaryTemplate()),
                bo[0], bo[1], order, (int) integer(root, "breakdown_k", d.k()));
    }

    /** A nested settings object (absent = empty), its keys checked. */
    private static JsonNode object(JsonNode root, String key, Set<String> known) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            return JSON.createObjectNode();
        }
        if (!n.isObject()) {
            throw new IllegalArgumentException("'" + key + "' must be an object with keys " + new java.util.TreeSet<>(known));
        }
        checkKeys(n, known, key + ".");
        return n;
    }

    private static String[] options(JsonNode n, String what, String first, String second) {
        if (!n.hasNonNull("options")) {
            return new String[] {first, second};
        }
        List<String> o = strings(n.get("options"), what);
        if (o.size() != 2) {
            throw new IllegalArgumentException("'" + what + "' must list exactly two answer words, got " + o);
        }
        return new String[] {o.get(0), o.get(1)};
    }

    /** The canonical JSON of a task (every key written, fixed key order): equal tasks give equal text. */
    public static String toJson(TaskDefinition t) {
        ObjectNode n = JSON.createObjectNode();
        n.put("name", t.name());
        ArrayNode labels = n.putArray("labels");
        t.labels().forEach(labels::add);
        n.put("instruction", t.instructionTemplate());
        n.put("demo_template", t.demoTemplate());
        n.put("query_template", t.queryTemplate());
        n.put("format", t.format().name().toLowerCase(Locale.ROOT));
        n.put("k", t.k());
        n.put("seed", t.seed());
        ArrayNode demos = n.putArray("demos");
        for (Demo d : t.demoPool()) {
            ObjectNode o = demos.addObject();
            o.put("text", d.text());
            ArrayNode ls = o.putArray("labels");
            d.labels().forEach(ls::add);
        }
        ObjectNode variants = n.putObject("variants");
        new java.util.TreeMap<>(t.extraVariants()).forEach((k, vs) -> {
            ArrayNode a = variants.putArray(k);
            vs.forEach(a::add);
        });
        n.put("compat", t.compatCode() ? "code" : "paper");
        n.put("max_new_tokens", t.maxNewTokens());
        writeBreakdown(n, t.breakdown());
        if (t.promptFormat().isChat()) {
            // Only chat tasks carry these keys: a plain task's canonical JSON (and run id) is what it was before.
            PromptFormat f = t.promptFormat();
            n.put("prompt_format", PromptFormat.wire(f.style()));
            ObjectNode c = n.putObject("chat");
            c.put("demos", PromptFormat.wire(f.demos()));
            c.put("instruction", PromptFormat.wire(f.instruction()));
        }
        if (t.model() != null) {
            // Only a task that names its model carries the key: a default-model task keeps its canonical JSON.
            n.put("model", t.model());
        }
        try {
            return JSON.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The task's version, carried on every worker output as {@code task_version}: the first 12 hex characters of
     * the SHA-256 of {@link #toJson} (UTF-8), the same prompt configuration run ids hash. Re-registering a task
     * with another prompt, demo set, label order, method set or model gives another version, so downstream the two
     * never merge; registering the same definition again keeps the version.
     */
    public static String version(TaskDefinition t) {
        try {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(toJson(t).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Only what matters: see the class comment (generate-only tasks keep their canonical JSON). */
    private static void writeBreakdown(ObjectNode n, Breakdown b) {
        Breakdown d = Breakdown.defaults();
        if (!b.methods().equals(d.methods())) {
            ArrayNode m = n.putArray("methods");
            b.methodNames().forEach(m::add);
        }
        boolean unaryMatters = b.runs(TaskMethod.UNARY) || !b.unaryInstruction().equals(d.unaryInstruction())
                || !b.unaryTemplate().equals(d.unaryTemplate()) || !b.reasonable().equals(d.reasonable())
                || !b.unreasonable().equals(d.unreasonable());
        if (unaryMatters) {
            ObjectNode u = n.putObject("unary");
            u.put("instruction", b.unaryInstruction());
            u.put("template", b.unaryTemplate());
            u.putArray("options").add(b.reasonable()).add(b.unreasonable());
        }
        boolean binaryMatters = b.runs(TaskMethod.BINARY) || !b.binaryInstruction().equals(d.binaryInstruction())
                || !b.binaryTemplate().equals(d.binaryTemplate()) || !b.optionA().equals(d.optionA())
                || !b.optionB().equals(d.optionB()) || b.pairOrder() != d.pairOrder();
        if (binaryMatters) {
            ObjectNode o = n.putObject("binary");
            o.put("instruction", b.binaryInstruction());
            o.put("template", b.binaryTemplate());
            o.putArray("options").add(b.optionA()).add(b.optionB());
            o.put("pair_order", b.pairOrder().wireName());
        }
        if (unaryMatters || binaryMatters || b.k() != d.k()) {
            n.put("breakdown_k", b.k());
        }
    }

    private static String text(JsonNode n, String key, String fallback) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("'" + key + "' must be a string");
        }
        return v.asText();
    }

    private static long integer(JsonNode n, String key, long fallback) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isIntegralNumber()) {
            throw new IllegalArgumentException("'" + key + "' must be an integer");
        }
        return v.asLong();
    }

    private static List<String> strings(JsonNode n, String what) {
        if (n == null || !n.isArray()) {
            throw new IllegalArgumentException("'" + what + "' must be a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw new IllegalArgumentException("'" + what + "' must be a list of strings");
            }
            out.add(e.asText());
        }
        return out;
    }
}
