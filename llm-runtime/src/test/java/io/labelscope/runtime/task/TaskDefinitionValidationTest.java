package io.labelscope.runtime.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Definitions that would be accepted and then misread downstream are refused at parse time, naming the problem. */
class TaskDefinitionValidationTest {

    private static TaskDefinition parse(String name, String labels, String format) {
        return TaskFiles.parse("{\"name\": \"" + name + "\", \"labels\": [" + labels + "]"
                + (format == null ? "" : ", \"format\": \"" + format + "\"") + "}");
    }

    @Test
    void taskNamesAreKafkaKeysDirectoryNamesAndUrlPartsSoOnlyASafeAlphabetIsAllowed() {
        for (String bad : new String[] {"emo/tions", "emo tions", " emo", "-emo", "../emo", "émo",
                "x".repeat(129)}) {
            assertThatThrownBy(() -> parse(bad, "\"joy\"", null)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("task name '" + bad + "' is not allowed").hasMessageContaining("no '/'");
        }
        for (String good : new String[] {"goemotions", "emotions-test", "GoEmotions_v2.1", "x".repeat(128)}) {
            assertThat(parse(good, "\"joy\"", null).name()).isEqualTo(good);
        }
    }

    @Test
    void labelsMustBeNonBlankDistinctIgnoringCaseAndNotNone() {
        assertThatThrownBy(() -> parse("t", "\"joy\", \"  \"", null))
                .hasMessageContaining("label 2 of [joy,   ] is blank");
        assertThatThrownBy(() -> parse("t", "\"joy\", \"\"", null)).hasMessageContaining("is blank");
        assertThatThrownBy(() -> parse("t", "\"Joy\", \"fear\", \"joy\"", null))
                .hasMessageContaining("'Joy' and 'joy' differ only in case");
        assertThatThrownBy(() -> parse("t", "\"joy\", \"joy\"", null))
                .hasMessageContaining("duplicate labels: 'joy' and 'joy'");
        assertThatThrownBy(() -> parse("t", "\"joy\", \"None\"", null))
                .hasMessageContaining("label 'None' is not allowed").hasMessageContaining("reserved");
    }

    @Test
    void aCommaListLabelCannotContainTheSeparatorButAJsonListLabelMay() {
        assertThatThrownBy(() -> parse("t", "\"joy\", \"love, care\"", "comma_list"))
                .hasMessageContaining("label 'love, care' contains ','")
                .hasMessageContaining("comma_list");
        assertThat(parse("t", "\"joy\", \"love, care\"", "json_list").labels()).containsExactly("joy", "love, care");
    }
}
