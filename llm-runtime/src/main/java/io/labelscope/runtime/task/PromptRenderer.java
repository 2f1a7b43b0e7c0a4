package io.labelscope.runtime.task;

import io.labelscope.runtime.LlmModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * Renders SPEC §2 prompts: instruction + k demos (the shared prefix) + query. {@code prompt_format = plain}: one text,
 * trailing white space stripped. {@code prompt_format = chat}: the same parts as messages rendered by the checkpoint's
 * chat template with its generation prompt ({@link PromptFormat} says where instruction and demos go); the prefix is
 * then the rendered text every document's prompt begins with (up to where the document's query block starts).
 */
public final class PromptRenderer {
    /** Two documents that differ in their first character: their prompts agree exactly up to the document. */
    private static final String PROBE_A = "A";
    private static final String PROBE_B = "B";

    private final TaskDefinition task;
    private final List<Demo> demos;
    private final ChatTemplate chat;
    private final String prefix;

    /** A plain-prompt renderer; a chat task needs its checkpoint's template ({@link #forModel}). */
    public PromptRenderer(TaskDefinition task) {
        this(task, null);
    }

    /** @param chat the checkpoint's chat template; required when the task's prompt format is chat, else unused */
    public PromptRenderer(TaskDefinition task, ChatTemplate chat) {
        this.task = task;
        this.demos = sampleDemos(task);
        if (task.promptFormat().isChat()) {
            if (chat == null) {
                throw new IllegalArgumentException("task '" + task.name() + "' has prompt_format chat: it needs the "
                        + "checkpoint's chat template");
            }
            this.chat = chat;
            this.prefix = commonPrefix(prompt(PROBE_A), prompt(PROBE_B));
        } else {
            this.chat = null;
            StringBuilder sb = new StringBuilder(instruction());
            for (Demo d : demos) {
                sb.append(demoBlock(d));
            }
            this.prefix = sb.toString();
        }
    }

    /**
     * The renderer for a task on a checkpoint: a chat task uses the checkpoint's chat template, and a checkpoint
     * without one is an error naming it.
     */
    public static PromptRenderer forModel(TaskDefinition task, LlmModel model) {
        return forCheckpoint(task, model.directory());
    }

    /** {@link #forModel} for a checkpoint directory (its chat template read from the directory). */
    public static PromptRenderer forCheckpoint(TaskDefinition task, java.nio.file.Path dir) {
        if (!task.promptFormat().isChat()) {
            return new PromptRenderer(task);
        }
        ChatTemplate t = ChatTemplate.load(dir).orElseThrow(() -> new IllegalArgumentException(
                "task '" + task.name() + "' has prompt_format chat but checkpoint " + dir
                        + " has no chat template (tokenizer_config.json 'chat_template' or chat_template.jinja)"));
        return new PromptRenderer(task, t);
    }

    private String instruction() {
        return task.instructionTemplate().replace("{labels}", joinLabels(task.labels()));
    }

    private String demoBlock(Demo d) {
        return task.demoTemplate().replace("{text}", d.text()).replace("{answer}", answer(d.labels()));
    }

    /** The chat messages of one document's prompt (see {@link PromptFormat}). */
    public List<ChatTemplate.Message> messages(String text) {
        PromptFormat f = task.promptFormat();
        String instruction = instruction().strip();
        String query = query(text);
        List<ChatTemplate.Message> out = new ArrayList<>();
        boolean inSystem = f.instruction() == PromptFormat.ChatInstruction.SYSTEM;
        if (inSystem) {
            out.add(new ChatTemplate.Message("system", instruction));
        }
        String userLead = inSystem ? "" : instruction + "\n\n";
        if (f.demos() == PromptFormat.ChatDemos.TURNS) {
            for (Demo d : demos) {
                out.add(new ChatTemplate.Message("user", userLead + queryBlock(d.text())));
                out.add(new ChatTemplate.Message("assistant", answer(d.labels())));
                userLead = "";
            }
            out.add(new ChatTemplate.Message("user", userLead + query));
        } else {
            StringBuilder sb = new StringBuilder(userLead);
            for (Demo d : demos) {
                sb.append(demoBlock(d));
            }
            out.add(new ChatTemplate.Message("user", sb.append(query).toString()));
        }
        return out;
    }

    private String queryBlock(String text) {
        return task.queryTemplate().replace("{text}", text).stripTrailing();
    }

    private static String commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length());
        int i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        return a.substring(0, i);
    }

    /** Whether tokenising a whole prompt adds the tokenizer's special tokens (BOS): not when a chat template wrote them. */
    public boolean addSpecialTokens() {
        return chat == null;
    }

    public boolean isChat() {
        return chat != null;
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

    /** The per-document query block ({@code query_template} filled in, trailing white space stripped). */
    public String query(String text) {
        return queryBlock(text);
    }

    /**
     * The whole prompt as one string: plain, instruction + demos + query with trailing white space stripped; chat,
     * the template's rendering of {@link #messages} ending in its generation prompt (kept as rendered).
     */
    public String prompt(String text) {
        if (chat != null) {
            return chat.render(messages(text), true);
        }
        return (prefix + query(text)).stripTrailing();
    }

    public TaskDefinition task() {
        return task;
    }
}
