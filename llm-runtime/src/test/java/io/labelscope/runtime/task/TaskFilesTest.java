package io.labelscope.runtime.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskFilesTest {

    @Test
    void writesAndReadsBackTheSameTask(@TempDir Path dir) throws Exception {
        TaskDefinition t = TaskDefinition.defaults("emo", List.of("joy", "fear"),
                List.of(new Demo("yay", List.of("joy")), new Demo("eek", List.of("fear", "joy")), new Demo("meh", List.of())),
                2, 7).withFormat(OutputFormat.COMMA_LIST).withExtraVariants(Map.of("joy", List.of("Joyful")))
                .withCompatCode(true).withMaxNewTokens(20);
        Path f = dir.resolve("emo.json");
        TaskFiles.write(f, t);
        assertThat(TaskFiles.read(f)).isEqualTo(t);
        assertThat(TaskFiles.toJson(TaskFiles.parse(TaskFiles.toJson(t)))).isEqualTo(TaskFiles.toJson(t));
    }

    @Test
    void aTaskMayNameItsModelAndATaskThatNamesNoneKeepsItsCanonicalJson() {
        TaskDefinition plain = TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\", \"b\"]}");
        assertThat(plain.model()).isNull();
        assertThat(TaskFiles.toJson(plain)).doesNotContain("\"model\"");
        TaskDefinition named = TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\", \"b\"], "
                + "\"model\": \"demo/mfrc\"}");
        assertThat(named.namedModel()).contains("demo/mfrc");
        assertThat(TaskFiles.parse(TaskFiles.toJson(named))).isEqualTo(named).isNotEqualTo(plain);
        assertThat(named.withModel(null)).isEqualTo(plain);
        assertThat(TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\"], \"model\": \"  \"}").model()).isNull();
        assertThatThrownBy(() -> TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\"], \"model\": 3}"))
                .hasMessageContaining("model");
    }

    @Test
    void theVersionIsTheCanonicalJsonsHashAndChangesWithThePromptOnly() {
        TaskDefinition t = TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\", \"b\"]}");
        // Pinned: the canonical JSON of a minimal task must not drift between releases, or every running
        // deployment's versions (and dashboards) would split in two on upgrade. Checked with sha256sum.
        assertThat(TaskFiles.version(t)).as(TaskFiles.toJson(t)).isEqualTo("a0389cfd15b6");
        assertThat(TaskFiles.version(TaskFiles.parse(TaskFiles.toJson(t)))).isEqualTo(TaskFiles.version(t));
        assertThat(List.of(TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\", \"b\"], \"instruction\": \"Pick {labels}\"}"),
                TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"b\", \"a\"]}"),
                TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\", \"b\"], \"demos\": [{\"text\": \"x\"}]}"),
                t.withModel("demo/mfrc")))
                .extracting(TaskFiles::version).doesNotContain(TaskFiles.version(t)).doesNotHaveDuplicates()
                .allMatch(v -> v.matches("[0-9a-f]{12}"));
    }

    @Test
    void minimalTaskTakesTheDefaults() {
        TaskDefinition t = TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\", \"b\"]}");
        assertThat(t.instructionTemplate()).isEqualTo(TaskDefinition.DEFAULT_INSTRUCTION);
        assertThat(t.format()).isEqualTo(OutputFormat.JSON_LIST);
        assertThat(t.k()).isZero();
        assertThat(t.maxNewTokens()).isEqualTo(48);
    }

    @Test
    void errorsSayWhatIsWrong() {
        assertThatThrownBy(() -> TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\"], \"lables\": 1}"))
                .hasMessageContaining("unknown key 'lables'");
        assertThatThrownBy(() -> TaskFiles.parse("{\"labels\": [\"a\"]}")).hasMessageContaining("'name' is required");
        assertThatThrownBy(() -> TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\", \"none\"]}"))
                .hasMessageContaining("pseudo-label");
        assertThatThrownBy(() -> TaskFiles.parse("{\"name\": \"m\", \"labels\": [\"a\"], \"format\": \"xml\"}"))
                .hasMessageContaining("json_list or comma_list");
        assertThatThrownBy(() -> TaskFiles.parse("not json")).hasMessageContaining("not valid JSON");
    }
}
