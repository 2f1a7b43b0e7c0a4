package io.labelscope.runtime.task;

import java.util.Locale;
import java.util.Objects;

/**
 * How a task's prompt reaches the model (task JSON {@code prompt_format} and {@code chat}).
 *
 * <ul>
 *   <li>{@code plain} (default, the paper's): instruction + demos + query as one text (SPEC §2).</li>
 *   <li>{@code chat}: the same parts as system/user/assistant messages rendered with the checkpoint's own chat
 *       template ({@code tokenizer_config.json} {@code chat_template}) and its generation prompt, the way an
 *       instruction-tuned model is used. {@code demos}: {@code turns} (default) gives each demo as an earlier user turn
 *       (its query block) and assistant turn (its answer); {@code inline} writes the demo blocks into the final user
 *       message before the query, as in the plain prompt. {@code instruction}: {@code system} (default) sends the
 *       instruction as the system message; {@code user} puts it at the start of the first user message (for
 *       templates without a system role, e.g. Mistral v0.1).</li>
 * </ul>
 */
public record PromptFormat(Style style, ChatDemos demos, ChatInstruction instruction) {

    public enum Style { PLAIN, CHAT }

    public enum ChatDemos { TURNS, INLINE }

    public enum ChatInstruction { SYSTEM, USER }

    public PromptFormat {
        Objects.requireNonNull(style, "style");
        Objects.requireNonNull(demos, "demos");
        Objects.requireNonNull(instruction, "instruction");
        if (style == Style.PLAIN) {
            // The chat settings mean nothing to a plain prompt: one plain format, so equal tasks stay equal.
            demos = ChatDemos.TURNS;
            instruction = ChatInstruction.SYSTEM;
        }
    }

    public static PromptFormat plain() {
        return new PromptFormat(Style.PLAIN, ChatDemos.TURNS, ChatInstruction.SYSTEM);
    }

    /** Chat with the default settings: demos as turns, instruction as the system message. */
    public static PromptFormat chat() {
        return new PromptFormat(Style.CHAT, ChatDemos.TURNS, ChatInstruction.SYSTEM);
    }

    public boolean isChat() {
        return style == Style.CHAT;
    }

    public PromptFormat withDemos(ChatDemos d) {
        return new PromptFormat(style, d, instruction);
    }

    public PromptFormat withInstruction(ChatInstruction i) {
        return new PromptFormat(style, demos, i);
    }

    /** The wire name of an enum constant ({@code TURNS} → {@code turns}). */
    static String wire(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** Parses a wire name; the error names the key and the allowed values. */
    static <E extends Enum<E>> E parse(Class<E> type, String key, String value) {
        for (E e : type.getEnumConstants()) {
            if (wire(e).equals(value.toLowerCase(Locale.ROOT))) {
                return e;
            }
        }
        StringBuilder allowed = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            allowed.append(allowed.length() == 0 ? "" : " or ").append(wire(e));
        }
        throw new IllegalArgumentException("'" + key + "' must be " + allowed + ", got \"" + value + "\"");
    }
}
