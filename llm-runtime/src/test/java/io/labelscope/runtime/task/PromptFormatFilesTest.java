package io.labelscope.runtime.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Issue #16 item 6: the {@code prompt_format} / {@code chat} task keys, and plain tasks' canonical JSON unchanged. */
class PromptFormatFilesTest {

    static final String MINIMAL = "{\"name\": \"m\", \"labels\": [\"a\", \"b\"], \"instruction\": \"Pick {labels}.\\n\"}";

    /**
     * The canonical JSON of a plain generate-only task, byte for byte as it was before prompt formats existed (the
     * text the previous TaskFiles wrote for {@link #MINIMAL}): run ids hash it, so it must not change.
     */
    static final String MINIMAL_CANONICAL = "{\n"
            + "  \"name\" : \"m\",\n"
            + "  \"labels\" : [ \"a\", \"b\" ],\n"
            + "  \"instruction\" : \"Pick {labels}.\\n\",\n"
            + "  \"demo_template\" : \"Input: {text}\\n{answer}\\n\",\n"
            + "  \"query_template\" : \"Input: {text}\",\n"
            + "  \"format\" : \"json_list\",\n"
            + "  \"k\" : 0,\n"
            + "  \"seed\" : 0,\n"
            + "  \"demos\" : [ ],\n"
            + "  \"variants\" : { },\n"
            + "  \"compat\" : \"paper\",\n"
            + "  \"max_new_tokens\" : 48\n"
            + "}";

    /** MINIMAL with more keys ({@code extra} starts with a comma). */
    static String with(String extra) {
        return MINIMAL.substring(0, MINIMAL.length() - 1) + extra;
    }

    @Test
    void plainTasksKeepTheirCanonicalJson() {
        TaskDefinition t = TaskFiles.parse(MINIMAL);
        assertThat(t.promptFormat()).isEqualTo(PromptFormat.plain());
        assertThat(TaskFiles.toJson(t)).isEqualTo(MINIMAL_CANONICAL);
        // Saying "plain" explicitly is the same task.
        assertThat(TaskFiles.parse(with(", \"prompt_format\": \"plain\"}"))).isEqualTo(t);
    }

    @Test
    void chatSettingsRoundTrip() {
        TaskDefinition t = TaskFiles.parse(with(", \"prompt_format\": \"chat\", \"chat\": {\"demos\": \"inline\", \"instruction\": \"user\"}}"));
        assertThat(t.promptFormat()).isEqualTo(new PromptFormat(PromptFormat.Style.CHAT, PromptFormat.ChatDemos.INLINE,
                PromptFormat.ChatInstruction.USER));
        String json = TaskFiles.toJson(t);
        assertThat(json).contains("\"prompt_format\" : \"chat\"").contains("\"demos\" : \"inline\"");
        assertThat(TaskFiles.parse(json)).isEqualTo(t);
        TaskDefinition defaults = TaskFiles.parse(with(", \"prompt_format\": \"chat\"}"));
        assertThat(defaults.promptFormat()).isEqualTo(PromptFormat.chat());
        assertThat(defaults).isNotEqualTo(TaskFiles.parse(MINIMAL));
    }

    @Test
    void badSettingsSayWhatIsWrong() {
        assertThatThrownBy(() -> TaskFiles.parse(with(", \"prompt_format\": \"xml\"}")))
                .hasMessageContaining("'prompt_format' must be plain or chat");
        assertThatThrownBy(() -> TaskFiles.parse(with(", \"chat\": {\"demos\": \"inline\"}}")))
                .hasMessageContaining("need \"prompt_format\": \"chat\"");
        assertThatThrownBy(() -> TaskFiles.parse(with(", \"prompt_format\": \"chat\", \"chat\": {\"demo\": \"inline\"}}")))
                .hasMessageContaining("unknown key 'chat.demo'");
        assertThatThrownBy(() -> TaskFiles.parse(with(", \"prompt_format\": \"chat\", \"chat\": {\"demos\": \"later\"}}")))
                .hasMessageContaining("'chat.demos' must be turns or inline");
    }
}
