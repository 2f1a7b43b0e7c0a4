package io.labelscope.demomodel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class DemoEvalTest {
    static final List<String> L = List.of("joy", "fear");

    @Test
    void validJsonIsStrict() {
        assertThat(DemoEval.validJson("{\"label\": [\"joy\", \"fear\"]}", L)).isTrue();
        assertThat(DemoEval.validJson("\n{\"label\": [\"none\"]}\n", L)).isTrue();
        assertThat(DemoEval.validJson("{\"label\": [\"none\", \"joy\"]}", L)).isFalse();
        assertThat(DemoEval.validJson("{\"label\": [\"happiness\"]}", L)).isFalse();
        assertThat(DemoEval.validJson("{\"label\": []}", L)).isFalse();
        assertThat(DemoEval.validJson("{\"label\": [\"joy\"", L)).isFalse();
        assertThat(DemoEval.validJson("joy, fear", L)).isFalse();
    }
}
