package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.decode.PromptTokens;
import io.labelscope.runtime.task.OutputFormat;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.testing.ByteBpe;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.TinyCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16 item 2, the merge case: a document whose first characters merge with the prefix's last two tokens
 * ({@code x a b} + {@code c} is {@code x abc}) cannot run on the cached prefix; it runs whole, so its ids are still
 * those of the whole prompt, while other documents of the same batch share the cache.
 */
class PromptTokensTest {

    @Test
    void aDocumentThatMergesIntoThePrefixRunsWhole(@TempDir Path dir) throws Exception {
        ByteBpe bpe = new ByteBpe(List.of("bc", "abc", " d", "Pick", " a", " b", ".", "\n"));
        Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB).withSeed(9));
        Files.delete(dir.resolve("tokenizer.json"));
        bpe.write(dir.resolve("tokenizer.json"));
        // k = 0: the prefix is the instruction, ending in "xab"; the query is the document itself.
        TaskDefinition task = new TaskDefinition("m", List.of("a", "b"), "Pick {labels}.\nxab",
                TaskDefinition.DEFAULT_DEMO, "{text}", OutputFormat.JSON_LIST, 0, 0, List.of(), Map.of(), false, 5);
        List<String> docs = List.of("c d", " d d", "c");
        try (LlmModel model = LlmModel.load(dir, RuntimeConfig.cpu());
             LabelDecoder shared = new LabelDecoder(model, task, true);
             LabelDecoder alone = new LabelDecoder(model, task, false)) {
            PromptTokens tokens = new PromptTokens(model, shared.renderer().prefix(), true);
            assertThat(tokens.split(shared.renderer().prompt("c d")).onHead()).isFalse();
            assertThat(tokens.split(shared.renderer().prompt(" d d")).onHead()).isTrue();
            for (String d : docs) {
                assertThat(shared.promptIds(d)).containsExactly(model.encode(shared.renderer().prompt(d), true));
            }
            List<GenerationResult> a = shared.classify(docs);
            List<GenerationResult> b = alone.classify(docs);
            for (int i = 0; i < docs.size(); i++) {
                assertThat(a.get(i).promptTokens()).isEqualTo(shared.promptIds(docs.get(i)).length);
                assertThat(a.get(i).generatedIds()).containsExactly(b.get(i).generatedIds());
                WholePromptTokensTest.assertSameSteps(a.get(i), b.get(i));
            }
        }
    }
}
