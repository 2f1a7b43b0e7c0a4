package io.labelscope.runtime.task;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A classification task as data (SPEC §2): label set in instruction order, templates, output format, k demos drawn
 * with a seed from a pool, extra surface variants per label, and the {@code compat=code} switch.
 *
 * @param instructionTemplate contains {@code {labels}}, rendered as {@code a, b and c}
 * @param demoTemplate contains {@code {text}} and {@code {answer}}
 * @param queryTemplate contains {@code {text}}
 * @param extraVariants more surface forms per label (beyond {@code l, L, " l", " L"} and the in-prompt form)
 * @param compatCode reproduce the authors' code: only a label's first occurrence makes a step, only the in-prompt
 *     token form counts
 * @param maxNewTokens generation limit per document
 * @param breakdown the methods run per document and the breakdown prompts (default: generate only)
 * @param promptFormat plain text (default, the paper's) or the checkpoint's chat template ({@link PromptFormat})
 * @param model the model this task runs on, as the task file names it (a directory name under the worker's models
 *     directory, or a checkpoint path: {@link io.labelscope.runtime.ModelDirs}); null = the worker's default model
 */
public record TaskDefinition(
        String name,
        List<String> labels,
        String instructionTemplate,
        String demoTemplate,
        String queryTemplate,
        OutputFormat format,
        int k,
        long seed,
        List<Demo> demoPool,
        Map<String, List<String>> extraVariants,
        boolean compatCode,
        int maxNewTokens,
        Breakdown breakdown,
        PromptFormat promptFormat,
        String model) {

    public static final String NONE = "none";
    /** Task names: letters, digits, '.', '_', '-'; starting with a letter or digit; at most 128 characters. */
    public static final Pattern NAME_PATTERN =
            Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    /** What separates labels in a {@link OutputFormat#COMMA_LIST} answer. */
    public static final String COMMA_LIST_SEPARATOR = ",";
    public static final String DEFAULT_INSTRUCTION = "Classify the following inputs into none, one, or multiple the "
            + "following emotions per input: {labels}. Output exactly these emotions and no others.\n";
    public static final String DEFAULT_DEMO = "Input: {text}\n{answer}\n";
    public static final String DEFAULT_QUERY = "Input: {text}";

    public TaskDefinition {
        Objects.requireNonNull(name, "name");
        if (!NAME_PATTERN.matcher(name).matches()) {
            throw new IllegalArgumentException("task name '" + name + "' is not allowed: a task name is 1 to 128 of"
                    + " letters, digits, '.', '_' and '-', starting with a letter or digit (it is a Kafka key, a"
                    + " directory name under a per-task model path and part of URLs; no '/', no spaces)");
        }
        Objects.requireNonNull(labels, "labels");
        labels = List.copyOf(labels);
        if (labels.isEmpty()) {
            throw new IllegalArgumentException("task " + name + " has no labels");
        }
        Objects.requireNonNull(format, "format");
        Map<String, String> byFolded = new HashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            String label = labels.get(i);
            if (label.isBlank()) {
                throw new IllegalArgumentException("task " + name + ": label " + (i + 1) + " of " + labels
                        + " is blank");
            }
            if (label.equalsIgnoreCase(NONE)) {
                throw new IllegalArgumentException("task " + name + ": label '" + label + "' is not allowed: 'none' is"
                        + " the pseudo-label for no label and is reserved");
            }
            if (format == OutputFormat.COMMA_LIST && label.contains(COMMA_LIST_SEPARATOR)) {
                throw new IllegalArgumentException("task " + name + ": label '" + label + "' contains '"
                        + COMMA_LIST_SEPARATOR + "', the separator of the comma_list output format, so an answer"
                        + " listing it could not be read back; rename the label or use format json_list");
            }
            // Answers are matched to labels without regard to case, so two labels differing only in case would be
            // one label to the parser and two to everything downstream.
            String earlier = byFolded.putIfAbsent(label.toLowerCase(Locale.ROOT), label);
            if (earlier != null) {
                throw new IllegalArgumentException("task " + name + " has duplicate labels: '" + earlier + "' and '"
                        + label + "'" + (earlier.equals(label) ? "" : " differ only in case") + " (labels " + labels
                        + ")");
            }
        }
        if (!instructionTemplate.contains("{labels}")) {
            throw new IllegalArgumentException("instruction template lacks {labels}");
        }
        if (!demoTemplate.contains("{text}") || !demoTemplate.contains("{answer}")) {
            throw new IllegalArgumentException("demo template needs {text} and {answer}");
        }
        if (!queryTemplate.contains("{text}")) {
            throw new IllegalArgumentException("query template lacks {text}");
        }
        demoPool = List.copyOf(demoPool);
        extraVariants = Map.copyOf(extraVariants);
        if (k < 0 || k > demoPool.size()) {
            throw new IllegalArgumentException("k=" + k + " demos requested, pool has " + demoPool.size());
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be >= 1");
        }
        Objects.requireNonNull(breakdown, "breakdown");
        Objects.requireNonNull(promptFormat, "promptFormat");
        if (breakdown.k() > demoPool.size()) {
            throw new IllegalArgumentException("breakdown k=" + breakdown.k() + " demos requested, pool has "
                    + demoPool.size());
        }
        if (model != null && model.isBlank()) {
            model = null;
        }
    }

    /** A task on the worker's default model (the definition before tasks could name their model). */
    public TaskDefinition(String name, List<String> labels, String instructionTemplate, String demoTemplate,
                          String queryTemplate, OutputFormat format, int k, long seed, List<Demo> demoPool,
                          Map<String, List<String>> extraVariants, boolean compatCode, int maxNewTokens,
                          Breakdown breakdown, PromptFormat promptFormat) {
        this(name, labels, instructionTemplate, demoTemplate, queryTemplate, format, k, seed, demoPool, extraVariants,
                compatCode, maxNewTokens, breakdown, promptFormat, null);
    }

    /** A plain-prompt task (the definition before prompt formats existed). */
    public TaskDefinition(String name, List<String> labels, String instructionTemplate, String demoTemplate,
                          String queryTemplate, OutputFormat format, int k, long seed, List<Demo> demoPool,
                          Map<String, List<String>> extraVariants, boolean compatCode, int maxNewTokens,
                          Breakdown breakdown) {
        this(name, labels, instructionTemplate, demoTemplate, queryTemplate, format, k, seed, demoPool, extraVariants,
                compatCode, maxNewTokens, breakdown, PromptFormat.plain());
    }

    /** A generate-only task (the definition before breakdown methods existed). */
    public TaskDefinition(String name, List<String> labels, String instructionTemplate, String demoTemplate,
                          String queryTemplate, OutputFormat format, int k, long seed, List<Demo> demoPool,
                          Map<String, List<String>> extraVariants, boolean compatCode, int maxNewTokens) {
        this(name, labels, instructionTemplate, demoTemplate, queryTemplate, format, k, seed, demoPool, extraVariants,
                compatCode, maxNewTokens, Breakdown.defaults());
    }

    /** The authors' GoEmotions defaults: JSON list, default templates, no extra variants. */
    public static TaskDefinition defaults(String name, List<String> labels, List<Demo> pool, int k, long seed) {
        return new TaskDefinition(name, labels, DEFAULT_INSTRUCTION, DEFAULT_DEMO, DEFAULT_QUERY,
                OutputFormat.JSON_LIST, k, seed, pool, Map.of(), false, 48);
    }

    public TaskDefinition withFormat(OutputFormat f) {
        return new TaskDefinition(name, labels, instructionTemplate, demoTemplate, queryTemplate, f, k, seed,
                demoPool, extraVariants, compatCode, maxNewTokens, breakdown, promptFormat, model);
    }

    public TaskDefinition withCompatCode(boolean c) {
        return new TaskDefinition(name, labels, instructionTemplate, demoTemplate, queryTemplate, format, k, seed,
                demoPool, extraVariants, c, maxNewTokens, breakdown, promptFormat, model);
    }

    public TaskDefinition withMaxNewTokens(int n) {
        return new TaskDefinition(name, labels, instructionTemplate, demoTemplate, queryTemplate, format, k, seed,
                demoPool, extraVariants, compatCode, n, breakdown, promptFormat, model);
    }

    public TaskDefinition withExtraVariants(Map<String, List<String>> v) {
        return new TaskDefinition(name, labels, instructionTemplate, demoTemplate, queryTemplate, format, k, seed,
                demoPool, v, compatCode, maxNewTokens, breakdown, promptFormat, model);
    }

    public TaskDefinition withBreakdown(Breakdown b) {
        return new TaskDefinition(name, labels, instructionTemplate, demoTemplate, queryTemplate, format, k, seed,
                demoPool, extraVariants, compatCode, maxNewTokens, b, promptFormat, model);
    }

    public TaskDefinition withPromptFormat(PromptFormat p) {
        return new TaskDefinition(name, labels, instructionTemplate, demoTemplate, queryTemplate, format, k, seed,
                demoPool, extraVariants, compatCode, maxNewTokens, breakdown, p, model);
    }

    /** The same task on another model (null: the worker's default). */
    public TaskDefinition withModel(String m) {
        return new TaskDefinition(name, labels, instructionTemplate, demoTemplate, queryTemplate, format, k, seed,
                demoPool, extraVariants, compatCode, maxNewTokens, breakdown, promptFormat, m);
    }

    /** The model the task names, if it names one. */
    public java.util.Optional<String> namedModel() {
        return java.util.Optional.ofNullable(model);
    }

    /** The methods run per document ({@code generate} unless the task says otherwise). */
    public List<TaskMethod> methods() {
        return breakdown.methods();
    }

    /** Labels then {@code none}: the order of every step's logits and probabilities. */
    public List<String> scoredLabels() {
        java.util.ArrayList<String> s = new java.util.ArrayList<>(labels);
        s.add(NONE);
        return List.copyOf(s);
    }
}
