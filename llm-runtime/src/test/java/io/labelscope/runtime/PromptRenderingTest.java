package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.labelscope.runtime.task.AnswerParser;
import io.labelscope.runtime.task.Demo;
import io.labelscope.runtime.task.OutputFormat;
import io.labelscope.runtime.task.PromptRenderer;
import io.labelscope.runtime.task.TaskDefinition;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SPEC §2 prompt text and answer parsing (no model needed). */
class PromptRenderingTest {

    static final List<String> GOEMO = List.of("joy", "optimism", "admiration", "surprise", "fear", "sadness", "anger");

    static List<Demo> pool() {
        List<Demo> p = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            p.add(new Demo("multi " + i, List.of("joy", "surprise")));
            p.add(new Demo("single " + i, List.of("fear")));
        }
        p.add(new Demo("empty", List.of()));
        return p;
    }

    @Test
    void defaultPromptIsTheAuthorsGoEmotionsFormat() {
        TaskDefinition t = TaskDefinition.defaults("goemotions", GOEMO, List.of(new Demo("so happy", List.of("joy",
                "surprise")), new Demo("nothing", List.of())), 2, 1);
        PromptRenderer r = new PromptRenderer(t);
        String p = r.prompt("what a day  \n");
        assertThat(p).startsWith("Classify the following inputs into none, one, or multiple the following emotions "
                + "per input: joy, optimism, admiration, surprise, fear, sadness and anger. Output exactly these "
                + "emotions and no others.\n");
        assertThat(p).contains("Input: so happy\n{\"label\": [\"joy\", \"surprise\"]}\n");
        assertThat(p).contains("Input: nothing\n{\"label\": [\"none\"]}\n");
        assertThat(p).endsWith("}\nInput: what a day");
        assertThat(r.prefix() + r.query("what a day  \n")).isEqualTo(p);
    }

    @Test
    void commaListFormat() {
        TaskDefinition t = TaskDefinition.defaults("x", List.of("a", "b"), List.of(new Demo("d", List.of("a", "b"))), 1, 1)
                .withFormat(OutputFormat.COMMA_LIST);
        PromptRenderer r = new PromptRenderer(t);
        assertThat(r.prompt("q")).endsWith("a and b. Output exactly these emotions and no others.\nInput: d\na, b\nInput: q");
        assertThat(r.answer(List.of())).isEqualTo("none");
    }

    @Test
    void demosAreASeededHalfMultiHalfSingleSample() {
        TaskDefinition t = TaskDefinition.defaults("x", GOEMO, pool(), 6, 42);
        List<Demo> a = new PromptRenderer(t).demos();
        assertThat(new PromptRenderer(t).demos()).isEqualTo(a);
        assertThat(a).hasSize(6);
        assertThat(a.stream().filter(d -> d.labels().size() >= 2)).hasSize(3);
        assertThat(a.stream().filter(d -> d.labels().size() <= 1)).hasSize(3);
        List<Demo> other = new PromptRenderer(TaskDefinition.defaults("x", GOEMO, pool(), 6, 43)).demos();
        assertThat(other).isNotEqualTo(a);
    }

    @Test
    void badTasksAreRejected() {
        assertThatThrownBy(() -> TaskDefinition.defaults("x", List.of("joy", "none"), List.of(), 0, 1))
                .hasMessageContaining("none");
        assertThatThrownBy(() -> TaskDefinition.defaults("x", List.of("joy"), List.of(), 2, 1))
                .hasMessageContaining("k=2");
    }

    @Test
    void answerParsing() {
        TaskDefinition t = TaskDefinition.defaults("x", GOEMO, List.of(), 0, 1);
        assertThat(AnswerParser.parse("\n{\"label\": [\"Joy\", \"none\", \"joy\", \"bliss\"]}\n", t))
                .containsExactly("joy", "none", "joy", "bliss");
        assertThat(AnswerParser.parse(" [\"fear\", \"anger\"]", t)).containsExactly("fear", "anger");
        // Broken JSON: substring match on label names, in text order, whole words only.
        assertThat(AnswerParser.parse("{\"label\": [\"sadness\", \"Fear\", \"enjoyment\"", t))
                .containsExactly("sadness", "fear");
        assertThat(AnswerParser.parse(" joy, Optimism ,anger.\nnext", t.withFormat(OutputFormat.COMMA_LIST)))
                .containsExactly("joy", "optimism", "anger");
        assertThat(AnswerParser.elementAt("[\"joy\", \"optimism\"]", 9)).isEqualTo("optimism");
        assertThat(AnswerParser.insideList("{\"label\": [\"joy\", ", OutputFormat.JSON_LIST)).isTrue();
        assertThat(AnswerParser.insideList("{\"label\": [\"joy\"]}", OutputFormat.JSON_LIST)).isFalse();
        assertThat(AnswerParser.insideList("{\"label\": ", OutputFormat.JSON_LIST)).isFalse();
        assertThat(AnswerParser.insideList("{\"label\": [\"", OutputFormat.JSON_LIST)).isTrue();
        // Inside an element (the "ness" of "sadness"): not an element start.
        assertThat(AnswerParser.insideList("{\"label\": [\"sad", OutputFormat.JSON_LIST)).isFalse();
        assertThat(AnswerParser.insideList("\njoy, sad", OutputFormat.COMMA_LIST)).isFalse();
        assertThat(AnswerParser.insideList("\njoy, ", OutputFormat.COMMA_LIST)).isTrue();
        assertThat(AnswerParser.insideList("\n", OutputFormat.COMMA_LIST)).isTrue();
    }
}
