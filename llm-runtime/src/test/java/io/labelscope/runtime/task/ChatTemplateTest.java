package io.labelscope.runtime.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue #16 item 6: the real chat templates of Llama 3, Qwen 2.5 and Mistral v0.1 (test resources, sources in
 * chat-templates/README.md) render a task's prompt as the checkpoint's own {@code apply_chat_template} would. Every
 * expected string is written out by hand from the template's text.
 */
class ChatTemplateTest {

    /** One demo (k = 1 of a one-demo pool, so the demo is fixed), two labels, JSON answers. */
    static TaskDefinition task(PromptFormat format) {
        return new TaskDefinition("emo", List.of("joy", "fear"), "Classify into {labels}.\n",
                TaskDefinition.DEFAULT_DEMO, TaskDefinition.DEFAULT_QUERY, OutputFormat.JSON_LIST, 1, 0,
                List.of(new Demo("I am happy", List.of("joy"))), Map.of(), false, 48, Breakdown.defaults(), format);
    }

    static ChatTemplate template(String name) throws URISyntaxException {
        Path dir = Path.of(ChatTemplateTest.class.getResource("/chat-templates/" + name).toURI());
        return ChatTemplate.load(dir).orElseThrow();
    }

    @Test
    void llama3DemosAsTurns() throws Exception {
        PromptRenderer r = new PromptRenderer(task(PromptFormat.chat()), template("llama3"));
        String want = "<|begin_of_text|>"
                + "<|start_header_id|>system<|end_header_id|>\n\nClassify into joy and fear.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nInput: I am happy<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n{\"label\": [\"joy\"]}<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nInput: it is scary<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertThat(r.prompt("it is scary")).isEqualTo(want);
        // The shared prefix ends where the document starts; the template's BOS is in the text, not added again.
        assertThat(r.prefix()).isEqualTo(want.substring(0, want.indexOf("it is scary")));
        assertThat(r.addSpecialTokens()).isFalse();
    }

    @Test
    void llama3TrimsContentOnly() throws Exception {
        // '... + message['content'] | trim + ...': the filter binds to the content, not to the concatenation.
        ChatTemplate t = template("llama3");
        assertThat(t.render(List.of(new ChatTemplate.Message("user", "  hi  ")), false))
                .isEqualTo("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>");
    }

    @Test
    void qwen25DemosAsTurns() throws Exception {
        PromptRenderer r = new PromptRenderer(task(PromptFormat.chat()), template("qwen2.5"));
        assertThat(r.prompt("it is scary")).isEqualTo(
                "<|im_start|>system\nClassify into joy and fear.<|im_end|>\n"
                        + "<|im_start|>user\nInput: I am happy<|im_end|>\n"
                        + "<|im_start|>assistant\n{\"label\": [\"joy\"]}<|im_end|>\n"
                        + "<|im_start|>user\nInput: it is scary<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void qwen25DemosInlineAndInstructionInTheUserMessage() throws Exception {
        PromptFormat f = PromptFormat.chat().withDemos(PromptFormat.ChatDemos.INLINE)
                .withInstruction(PromptFormat.ChatInstruction.USER);
        PromptRenderer r = new PromptRenderer(task(f), template("qwen2.5"));
        // No system message: the template writes its default one.
        assertThat(r.prompt("it is scary")).isEqualTo(
                "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\nClassify into joy and fear.\n\n"
                        + "Input: I am happy\n{\"label\": [\"joy\"]}\nInput: it is scary<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void mistralInstructionInTheFirstUserTurn() throws Exception {
        PromptFormat f = PromptFormat.chat().withInstruction(PromptFormat.ChatInstruction.USER);
        PromptRenderer r = new PromptRenderer(task(f), template("mistral-v0.1"));
        // This template has no generation prompt: the prompt ends with the last [/INST].
        assertThat(r.prompt("it is scary")).isEqualTo(
                "<s>[INST] Classify into joy and fear.\n\nInput: I am happy [/INST]{\"label\": [\"joy\"]}</s>"
                        + "[INST] Input: it is scary [/INST]");
    }

    @Test
    void mistralRejectsASystemMessageWithTheTemplatesOwnError() throws Exception {
        ChatTemplate t = template("mistral-v0.1");
        assertThatThrownBy(() -> new PromptRenderer(task(PromptFormat.chat()), t))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Conversation roles must alternate user/assistant/user/assistant/...");
    }

    @Test
    void aChatTaskWithoutATemplateIsAnError() {
        assertThatThrownBy(() -> new PromptRenderer(task(PromptFormat.chat())))
                .hasMessageContaining("prompt_format chat");
    }
}
