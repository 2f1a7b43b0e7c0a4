package io.labelscope.runtime.task;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A task's method set and the test-time breakdown prompts (SPEC §3; the defaults are the paper's appendix B
 * "Prompt examples"). A probe prompt is the breakdown instruction, {@code k} demo blocks and the query block cut
 * just before {@code {answer}}; the model's logits at that one position, for the first token of each option word,
 * are all a probe yields.
 *
 * @param methods what runs per document, in {@link TaskMethod} order, at least one, no repeats
 * @param unaryInstruction shown once before the demos
 * @param unaryTemplate one block: {@code {text}}, then {@code {label}}, then {@code {answer}} (only white space may
 *     follow it: that tail separates demo blocks)
 * @param reasonable the option word meaning "the label fits"
 * @param unreasonable the option word meaning "it does not"
 * @param binaryInstruction shown once before the demos
 * @param binaryTemplate one block: {@code {text}}, then {@code {a}}, then {@code {b}}, then {@code {answer}}
 * @param optionA the answer word naming the first shown label
 * @param optionB the answer word naming the second
 * @param pairOrder which item of a pair is shown as a
 * @param k demo blocks per breakdown prompt, drawn from the task's demo pool with the task's seed (default 0:
 *     zero-shot, because a demo block of a breakdown needs a made-up question about a demo's labels; see
 *     {@link ProbePrompts})
 */
public record Breakdown(
        List<TaskMethod> methods,
        String unaryInstruction,
        String unaryTemplate,
        String reasonable,
        String unreasonable,
        String binaryInstruction,
        String binaryTemplate,
        String optionA,
        String optionB,
        PairOrder pairOrder,
        int k) {

    public static final String DEFAULT_UNARY_INSTRUCTION = "Classify the following question-label pairs as either "
            + "\"reasonable\" or \"unreasonable\". Output either \"reasonable\" or \"unreasonable\" and nothing else.\n\n";
    public static final String DEFAULT_UNARY_TEMPLATE =
            "Question: {text}\n\nLabel: {label}\n\nIs the label reasonable: {answer}\n\n";
    public static final String DEFAULT_BINARY_INSTRUCTION = "Classify the following question into one of the two "
            + "following labels. Output either \"a\" or \"b\" depending on which label is better and nothing else.\n\n";
    public static final String DEFAULT_BINARY_TEMPLATE =
            "Question: {text}\n\na. {a}\n\nb. {b}\n\nCorrect Label: {answer}\n\n";

    public Breakdown {
        Objects.requireNonNull(pairOrder, "pairOrder");
        if (methods == null || methods.isEmpty()) {
            throw new IllegalArgumentException("'methods' needs at least one of generate, unary, binary");
        }
        if (methods.stream().distinct().count() != methods.size()) {
            throw new IllegalArgumentException("'methods' lists a method twice: " + methods);
        }
        // Canonical order, so equal sets are equal definitions (and give equal run ids).
        List<TaskMethod> sorted = new ArrayList<>(methods);
        sorted.sort(null);
        methods = List.copyOf(sorted);
        for (String[] w : new String[][] {{"unary reasonable", reasonable}, {"unary unreasonable", unreasonable},
                {"binary option a", optionA}, {"binary option b", optionB}}) {
            if (w[1] == null || w[1].isBlank()) {
                throw new IllegalArgumentException(w[0] + " word must not be empty");
            }
        }
        if (reasonable.strip().equals(unreasonable.strip())) {
            throw new IllegalArgumentException("unary options must differ, both are '" + reasonable + "'");
        }
        if (optionA.strip().equals(optionB.strip())) {
            throw new IllegalArgumentException("binary options must differ, both are '" + optionA + "'");
        }
        Objects.requireNonNull(unaryInstruction, "unary instruction");
        Objects.requireNonNull(binaryInstruction, "binary instruction");
        checkOrder("unary template", unaryTemplate, "{text}", "{label}", "{answer}");
        checkOrder("binary template", binaryTemplate, "{text}", "{a}", "{b}", "{answer}");
        if (k < 0) {
            throw new IllegalArgumentException("breakdown k must be >= 0, got " + k);
        }
    }

    /**
     * Each placeholder exactly once, in this order, and nothing but white space after {@code {answer}}: the probe
     * reads the logits where the answer starts, and everything before the last varying placeholder is shared.
     */
    private static void checkOrder(String what, String template, String... placeholders) {
        if (template == null) {
            throw new IllegalArgumentException(what + " is missing");
        }
        int at = -1;
        for (String p : placeholders) {
            int i = template.indexOf(p);
            if (i < 0) {
                throw new IllegalArgumentException(what + " lacks " + p + " (needs " + String.join(", ", placeholders)
                        + " in this order)");
            }
            if (template.indexOf(p, i + 1) >= 0) {
                throw new IllegalArgumentException(what + " has " + p + " twice");
            }
            if (i < at) {
                throw new IllegalArgumentException(what + " must have " + String.join(", ", placeholders)
                        + " in this order (the document is shared by every probe, the answer comes last)");
            }
            at = i;
        }
        String tail = template.substring(at + placeholders[placeholders.length - 1].length());
        if (!tail.isBlank()) {
            throw new IllegalArgumentException(what + ": only white space may follow {answer}, found '" + tail + "'");
        }
    }

    /** {@code generate} only, the paper's breakdown prompts, none first, zero-shot. */
    public static Breakdown defaults() {
        return new Breakdown(List.of(TaskMethod.GENERATE), DEFAULT_UNARY_INSTRUCTION, DEFAULT_UNARY_TEMPLATE,
                "reasonable", "unreasonable", DEFAULT_BINARY_INSTRUCTION, DEFAULT_BINARY_TEMPLATE, "a", "b",
                PairOrder.NONE_FIRST, 0);
    }

    public Breakdown withMethods(List<TaskMethod> m) {
        return new Breakdown(m, unaryInstruction, unaryTemplate, reasonable, unreasonable, binaryInstruction,
                binaryTemplate, optionA, optionB, pairOrder, k);
    }

    public Breakdown withPairOrder(PairOrder o) {
        return new Breakdown(methods, unaryInstruction, unaryTemplate, reasonable, unreasonable, binaryInstruction,
                binaryTemplate, optionA, optionB, o, k);
    }

    public Breakdown withK(int n) {
        return new Breakdown(methods, unaryInstruction, unaryTemplate, reasonable, unreasonable, binaryInstruction,
                binaryTemplate, optionA, optionB, pairOrder, n);
    }

    public boolean runs(TaskMethod m) {
        return methods.contains(m);
    }

    /** The method names as the events carry them. */
    public List<String> methodNames() {
        return methods.stream().map(TaskMethod::wireName).toList();
    }
}
