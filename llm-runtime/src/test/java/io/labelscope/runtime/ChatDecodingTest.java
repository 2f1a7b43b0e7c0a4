package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.task.Demo;
import io.labelscope.runtime.task.PromptFormat;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.TinyCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16 item 6: decoding a chat-formatted prompt (the real Qwen 2.5 template, its {@code <|im_start|>} /
 * {@code <|im_end|>} as special tokens of the tokenizer) on a tiny checkpoint: the prompt is tokenised whole without
 * an added BOS, the template's special tokens are single ids, label steps are detected in the answer, and prefix
 * sharing gives what no sharing gives.
 */
class ChatDecodingTest {

    @TempDir
    static Path dir;
    static LlmModel model;
    static long imStart;
    static long imEnd;

    static final List<String> DOCS = List.of("I am so happy today", "it was scary", "so");

    @BeforeAll
    static void load() throws Exception {
        Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB).withSeed(5));
        ObjectMapper om = new ObjectMapper();
        Path tokFile = dir.resolve("tokenizer.json");
        ObjectNode tok = (ObjectNode) om.readTree(tokFile.toFile());
        ArrayNode added = (ArrayNode) tok.get("added_tokens");
        imStart = Fixtures.tokenizer().size();
        imEnd = imStart + 1;
        for (String[] t : new String[][] {{"<|im_start|>", "" + imStart}, {"<|im_end|>", "" + imEnd}}) {
            ObjectNode a = added.addObject();
            a.put("id", Long.parseLong(t[1]));
            a.put("content", t[0]);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
        }
        om.writeValue(tokFile.toFile(), tok);
        Path template = Path.of(ChatDecodingTest.class.getResource("/chat-templates/qwen2.5/tokenizer_config.json")
                .toURI());
        Files.copy(template, dir.resolve("tokenizer_config.json"));
        model = LlmModel.load(dir, RuntimeConfig.cpu());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static TaskDefinition task() {
        List<Demo> pool = List.of(new Demo("I am happy", List.of("joy")), new Demo("it is scary", List.of("fear")));
        return TaskDefinition.defaults("emo", List.of("joy", "fear", "anger"), pool, 2, 3).withMaxNewTokens(30)
                .withPromptFormat(PromptFormat.chat());
    }

    @Test
    void chatPromptIsTokenisedWholeWithTheTemplatesSpecialTokens() {
        try (LabelDecoder d = new LabelDecoder(model, task(), true)) {
            String prompt = d.renderer().prompt(DOCS.get(0));
            assertThat(prompt).startsWith("<|im_start|>system\n").endsWith("<|im_start|>assistant\n");
            long[] ids = d.promptIds(DOCS.get(0));
            assertThat(ids).containsExactly(model.encode(prompt, false));
            // system + 2 demos x (user, assistant) + the query + the generation prompt each open a turn, all but the
            // last close one; no BOS is added to the template's text.
            assertThat(Arrays.stream(ids).filter(t -> t == imStart).count()).isEqualTo(7);
            assertThat(Arrays.stream(ids).filter(t -> t == imEnd).count()).isEqualTo(6);
            assertThat(ids[0]).isEqualTo(imStart);
        }
    }

    @Test
    void stepsAndLogitsAreTheSameWithAndWithoutPrefixSharing() {
        String answer = "{\"label\": [\"joy\", \"fear\"]}";
        try (LabelDecoder shared = new LabelDecoder(model, task(), true);
             LabelDecoder alone = new LabelDecoder(model, task(), false)) {
            List<String> answers = List.of(answer, answer, answer);
            List<GenerationResult> a = shared.score(DOCS, answers);
            List<GenerationResult> b = alone.score(DOCS, answers);
            for (int i = 0; i < DOCS.size(); i++) {
                assertThat(a.get(i).steps()).hasSize(2);
                assertThat(a.get(i).steps().get(0).generatedLabel()).isEqualTo("joy");
                assertThat(a.get(i).steps().get(1).generatedLabel()).isEqualTo("fear");
                assertThat(a.get(i).parsedLabels()).containsExactly("joy", "fear");
                WholePromptTokensTest.assertSameSteps(a.get(i), b.get(i));
            }
            List<GenerationResult> ga = shared.classify(DOCS);
            List<GenerationResult> gb = alone.classify(DOCS);
            for (int i = 0; i < DOCS.size(); i++) {
                assertThat(ga.get(i).generatedIds()).containsExactly(gb.get(i).generatedIds());
                WholePromptTokensTest.assertSameSteps(ga.get(i), gb.get(i));
            }
        }
    }
}
