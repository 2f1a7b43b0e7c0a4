package io.labelscope.runtime.task;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/** Renders SPEC §2 prompts: instruction + k demos (the shared prefix) + query, trailing white space stripped. */
public final class PromptRenderer {
    private final TaskDefinition task;
    private final List<Demo> demos;
    private final String prefix;

    public PromptRenderer(TaskDefinition task) {
        this.task = task;
        this.demos = sampleDemos(task);
        StringBuilder sb = new StringBuilder(task.instructionTemplate().replace("{labels}", joinLabels(task.labels())));
        for (Demo d : demos) {
            sb.append(task.demoTemplate().replace("{text}", d.text()).replace("{answer}", answer(d.labels())));
        }
        this.prefix = sb.toString();
    }

    /** {@code a, b and c}. */
    public static String joinLabels(List<String> labels) {
        if (labels.size() == 1) {
            return labels.get(0);
        }
        return String.join(", ", labels.subList(0, labels.size() - 1)) + " and " + labels.get(labels.size() - 1);
    }

    /**
     * The same k demos for every query: a seeded sample, half multi-label (ceil k/2), half single-label (at most one
     * label); a short bucket is topped up from the other. Order shuffled with the same seed.
     */
    static List<Demo> sampleDemos(TaskDefinition t) {
        return sampleDemos(t.demoPool(), t.k(), t.seed());
    }

    static List<Demo> sampleDemos(List<Demo> pool, int k, long seed) {
        Random r = new Random(seed);
        List<Demo> multi = new ArrayList<>();
        List<Demo> single = new ArrayList<>();
        for (Demo d : pool) {
            (d.labels().size() >= 2 ? multi : single).add(d);
        }
        Collections.shuffle(multi, r);
        Collections.shuffle(single, r);
        int wantMulti = Math.min(multi.size(), (k + 1) / 2);
        int wantSingle = Math.min(single.size(), k - wantMulti);
        wantMulti = Math.min(multi.size(), k - wantSingle);
        List<Demo> out = new ArrayList<>(multi.subList(0, wantMulti));
        out.addAll(single.subList(0, wantSingle));
        Collections.shuffle(out, r);
        return List.copyOf(out);
    }

    /** The answer line for a label set in the task's format; empty = {@code none}. */
    public String answer(List<String> labels) {
        List<String> ls = labels.isEmpty() ? List.of(TaskDefinition.NONE) : labels;
        return switch (task.format()) {
            case JSON_LIST -> "{\"label\": [" + ls.stream().map(l -> "\"" + l + "\"")
                    .collect(Collectors.joining(", ")) + "]}";
            case COMMA_LIST -> String.join(", ", ls);
        };
    }

    /** Char offset of {@code label} inside {@link #answer} of that single label. */
    public int labelOffsetInAnswer(String label) {
        String a = answer(List.of(label));
        return task.format() == OutputFormat.JSON_LIST ? a.indexOf("\"" + label + "\"") + 1 : a.indexOf(label);
    }

    public List<Demo> demos() {
        return demos;
    }

    /** Instruction + demos: identical for every document of the task (the reusable prefix). */
    public String prefix() {
        return prefix;
    }

    /** The per-document part. */
    public String query(String text) {
        return task.queryTemplate().replace("{text}", text).stripTrailing();
    }

    /** The whole prompt as one string. */
    public String prompt(String text) {
        return (prefix + query(text)).stripTrailing();
    }

    public TaskDefinition task() {
        return task;
    }
}
