package io.labelscope.runtime.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The breakdown settings in task JSON and the probe prompts they render (paper appendix B). */
class BreakdownSettingsTest {

    static final String ALL = "{\"name\": \"emo\", \"labels\": [\"joy\", \"fear\", \"anger\"], "
            + "\"methods\": [\"binary\", \"generate\", \"unary\"]}";

    @Test
    void existingTaskFilesLoadUnchangedAndKeepTheirCanonicalJson() throws Exception {
        for (String name : new String[] {"goemotions.json", "mfrc.json"}) {
            Path f = Path.of("..", "tasks", name);
            TaskDefinition t = TaskFiles.read(f);
            assertThat(t.methods()).containsExactly(TaskMethod.GENERATE);
            assertThat(t.breakdown()).isEqualTo(Breakdown.defaults());
            // No breakdown key is written for a generate-only task: its canonical JSON, hence its run ids, are as
            // before the breakdown existed.
            String json = TaskFiles.toJson(t);
            assertThat(json).doesNotContain("methods").doesNotContain("unary").doesNotContain("binary")
                    .doesNotContain("breakdown_k");
            assertThat(TaskFiles.parse(Files.readString(f))).isEqualTo(t);
        }
    }

    @Test
    void theExampleBreakdownTaskIsTheDemoTaskWithEveryMethod() throws Exception {
        TaskDefinition demo = TaskFiles.read(Path.of("..", "tasks", "goemotions.json"));
        TaskDefinition example = TaskFiles.read(Path.of("..", "tasks", "examples", "goemotions-breakdown.json"));
        assertThat(example.methods()).containsExactly(TaskMethod.GENERATE, TaskMethod.UNARY, TaskMethod.BINARY);
        assertThat(example).isEqualTo(demo.withBreakdown(Breakdown.defaults().withMethods(example.methods())));
    }

    @Test
    void breakdownSettingsRoundTripAndDefaultToThePapersPrompts() {
        TaskDefinition t = TaskFiles.parse(ALL);
        // Canonical order whatever the file's order.
        assertThat(t.methods()).containsExactly(TaskMethod.GENERATE, TaskMethod.UNARY, TaskMethod.BINARY);
        assertThat(t.breakdown().methodNames()).containsExactly("generate", "unary", "binary");
        assertThat(t.breakdown().unaryTemplate())
                .isEqualTo("Question: {text}\n\nLabel: {label}\n\nIs the label reasonable: {answer}\n\n");
        assertThat(t.breakdown().pairOrder()).isEqualTo(PairOrder.NONE_FIRST);
        String json = TaskFiles.toJson(t);
        assertThat(json).contains("\"methods\"").contains("\"pair_order\" : \"none_first\"");
        assertThat(TaskFiles.parse(json)).isEqualTo(t);

        TaskDefinition custom = TaskFiles.parse("{\"name\": \"e\", \"labels\": [\"joy\"], \"methods\": [\"unary\"], "
                + "\"unary\": {\"template\": \"T: {text} L: {label} ? {answer}\\n\", \"options\": [\"yes\", \"no\"]}, "
                + "\"binary\": {\"pair_order\": \"labels_first\", \"options\": [\"1\", \"2\"]}, "
                + "\"demos\": [{\"text\": \"yay\", \"labels\": [\"joy\"]}], \"breakdown_k\": 1}");
        assertThat(custom.methods()).containsExactly(TaskMethod.UNARY);
        assertThat(custom.breakdown().reasonable()).isEqualTo("yes");
        assertThat(custom.breakdown().optionB()).isEqualTo("2");
        assertThat(custom.breakdown().pairOrder()).isEqualTo(PairOrder.LABELS_FIRST);
        assertThat(custom.breakdown().k()).isEqualTo(1);
        assertThat(TaskFiles.parse(TaskFiles.toJson(custom))).isEqualTo(custom);
        // A different method set or template is a different canonical JSON (so a different run id).
        assertThat(TaskFiles.toJson(custom.withBreakdown(custom.breakdown().withMethods(List.of(TaskMethod.BINARY)))))
                .isNotEqualTo(TaskFiles.toJson(custom));
    }

    @Test
    void badSettingsSayWhatIsWrong() {
        String base = "{\"name\": \"m\", \"labels\": [\"a\", \"b\"], ";
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"methods\": [\"generate\", \"ternary\"]}"))
                .hasMessageContaining("unknown method 'ternary'");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"methods\": []}"))
                .hasMessageContaining("at least one of generate, unary, binary");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"methods\": [\"unary\", \"unary\"]}"))
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"unary\": {\"template\": \"Q: {text} {answer}\"}}"))
                .hasMessageContaining("unary template lacks {label}");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"unary\": {\"template\": \"L: {label} Q: {text} {answer}\"}}"))
                .hasMessageContaining("in this order");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"unary\": {\"template\": \"Q: {text} L: {label} A: {answer}!\"}}"))
                .hasMessageContaining("only white space may follow {answer}");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"binary\": {\"template\": \"Q: {text} {b} {a} {answer}\"}}"))
                .hasMessageContaining("binary template must have {text}, {a}, {b}, {answer} in this order");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"binary\": {\"optoins\": [\"a\", \"b\"]}}"))
                .hasMessageContaining("unknown key 'binary.optoins'");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"binary\": {\"options\": [\"a\", \"b\", \"c\"]}}"))
                .hasMessageContaining("exactly two answer words");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"binary\": {\"options\": [\"a\", \" a\"]}}"))
                .hasMessageContaining("binary options must differ");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"binary\": {\"pair_order\": \"random\"}}"))
                .hasMessageContaining("none_first or labels_first");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"breakdown_k\": 2}"))
                .hasMessageContaining("breakdown k=2 demos requested, pool has 0");
        assertThatThrownBy(() -> TaskFiles.parse(base + "\"unary\": \"yes\"}"))
                .hasMessageContaining("'unary' must be an object");
    }

    @Test
    void probePromptsAreThePapersAppendixPrompts() {
        ProbePrompts p = new ProbePrompts(TaskFiles.parse(ALL));
        assertThat(p.items()).containsExactly("joy", "fear", "anger", "none");
        ProbePrompts.Probes u = p.unary("I am so happy today");
        assertThat(u.suffixes()).hasSize(4);
        assertThat(u.prompt(0)).isEqualTo("Classify the following question-label pairs as either \"reasonable\" or "
                + "\"unreasonable\". Output either \"reasonable\" or \"unreasonable\" and nothing else.\n\n"
                + "Question: I am so happy today\n\nLabel: joy\n\nIs the label reasonable:");
        // Shared: everything up to the label; the space before the label starts the suffix.
        assertThat(u.document()).isEqualTo("Question: I am so happy today\n\nLabel:");
        assertThat(u.suffixes().get(3)).isEqualTo(" none\n\nIs the label reasonable:");

        // Pairs: C(4, 2) = 6, none shown first (as a) by default, then the labels in instruction order.
        assertThat(p.pairs()).containsExactly(new ProbePrompts.Pair(3, 0), new ProbePrompts.Pair(3, 1),
                new ProbePrompts.Pair(3, 2), new ProbePrompts.Pair(0, 1), new ProbePrompts.Pair(0, 2),
                new ProbePrompts.Pair(1, 2));
        ProbePrompts.Probes b = p.binary("I am so happy today");
        assertThat(b.prompt(0)).isEqualTo("Classify the following question into one of the two following labels. "
                + "Output either \"a\" or \"b\" depending on which label is better and nothing else.\n\n"
                + "Question: I am so happy today\n\na. none\n\nb. joy\n\nCorrect Label:");
        assertThat(b.document()).isEqualTo("Question: I am so happy today\n\na.");
        assertThat(b.suffixes().get(5)).isEqualTo(" fear\n\nb. anger\n\nCorrect Label:");

        TaskDefinition t = TaskFiles.parse(ALL);
        ProbePrompts labelsFirst = new ProbePrompts(t.withBreakdown(t.breakdown().withPairOrder(PairOrder.LABELS_FIRST)));
        assertThat(labelsFirst.pairs().get(0)).isEqualTo(new ProbePrompts.Pair(0, 1));
        assertThat(labelsFirst.pairs().get(5)).isEqualTo(new ProbePrompts.Pair(2, 3));
    }

    @Test
    void demoBlocksAlternateReasonableAndUnreasonableAndAnswerBinaryWithTheGoldLabel() {
        TaskDefinition t = TaskFiles.parse(ALL.replace("}", ", \"demos\": [{\"text\": \"yay\", \"labels\": [\"joy\"]}, "
                + "{\"text\": \"grr\", \"labels\": [\"anger\"]}], \"breakdown_k\": 2, \"seed\": 3}"));
        ProbePrompts p = new ProbePrompts(t);
        String u = p.unaryPrefix();
        String[] blocks = u.substring(t.breakdown().unaryInstruction().length()).split("\n\n(?=Question)");
        assertThat(blocks).hasSize(2);
        // First demo (j = 0) asks about its own label: reasonable; the second about another item: unreasonable.
        assertThat(blocks[0]).matches("(?s)Question: (yay\n\nLabel: joy|grr\n\nLabel: anger)\n\nIs the label "
                + "reasonable: reasonable");
        assertThat(blocks[1]).matches("(?s)Question: (yay\n\nLabel: (fear|anger|none)|grr\n\nLabel: (joy|fear|none))"
                + "\n\nIs the label reasonable: unreasonable\n\n");
        // Binary demos: the gold label wins, named by its position.
        for (String block : p.binaryPrefix().substring(t.breakdown().binaryInstruction().length())
                .split("\n\n(?=Question)")) {
            String gold = block.contains("yay") ? "joy" : "anger";
            String answer = block.substring(block.indexOf("Correct Label: ") + 15).strip();
            assertThat(block).contains((answer.equals("a") ? "a. " : "b. ") + gold + "\n");
        }
    }
}
