package io.labelscope.demomodel;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ByteLevelBpeTest {
    static final List<String> CORPUS = List.of(
            "Classify the following inputs into none, one, or multiple the following emotions per input.",
            "Input: I love this so much, thank you!!",
            "Input: What the hell is wrong with you? That's not okay.",
            "Input: I'm so happy for you :) congratulations",
            "Input: This is the worst day ever... I'm sad.",
            "\n{\"label\": [\"joy\", \"admiration\"]}",
            "\n{\"label\": [\"none\"]}");
    static final List<String> PROBES = List.of(
            "Input: I love this so much, thank you!!",
            "Completely new words: zebra quokka 12345 ünïcödé — “quotes” 😀 emoji\ttab\n\nnewlines  double  space ",
            "\n{\"label\": [\"joy\", \"admiration\", \"none\"]}",
            "I'm, you're, they've, we'll, she'd &amp; http://x.y/z?a=b");

    static ByteLevelBpe train() {
        List<String> twice = new java.util.ArrayList<>(CORPUS);
        twice.addAll(CORPUS); // every pair of the corpus occurs at least twice, so merges run to the vocabulary size
        return ByteLevelBpe.train(twice, 400, List.of("joy", "admiration", "none"));
    }

    @Test
    void roundTripsAnyText() {
        ByteLevelBpe bpe = train();
        assertThat(bpe.mergeCount()).isGreaterThan(50);
        for (String p : PROBES) {
            int[] ids = bpe.encode(p);
            assertThat(bpe.decode(ids)).isEqualTo(p);
            assertThat(ids.length).isLessThanOrEqualTo(p.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        }
        // merges really compress the training text
        String seen = CORPUS.get(1);
        assertThat(bpe.encode(seen).length).isLessThan(seen.length() / 3);
        assertThat(bpe.vocabSize()).isEqualTo(400);
    }

    @Test
    void wholeWordsAreSingleTokens() {
        ByteLevelBpe bpe = train();
        for (String w : List.of("joy", "admiration", "none")) {
            int[] ids = bpe.encode(w);
            assertThat(ids).hasSize(1);
            assertThat(bpe.token(ids[0])).isEqualTo(w);
        }
    }

    @Test
    void trainingIsDeterministic() {
        ByteLevelBpe a = train();
        ByteLevelBpe b = train();
        assertThat(a.vocabSize()).isEqualTo(b.vocabSize());
        for (int i = 0; i < a.vocabSize(); i++) {
            assertThat(a.token(i)).isEqualTo(b.token(i));
        }
    }

    @Test
    void tokenizerJsonLoadsInDjlAndEncodesTheSameIds(@TempDir Path dir) throws Exception {
        ByteLevelBpe bpe = train();
        Path file = dir.resolve("tokenizer.json");
        bpe.write(file);
        ByteLevelBpe back = ByteLevelBpe.read(file);
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file,
                Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"))) {
            for (String p : PROBES) {
                long[] theirs = hf.encode(p, false, false).getIds();
                int[] ours = bpe.encode(p);
                assertThat(theirs).as(p).containsExactly(Arrays.stream(ours).asLongStream().toArray());
                assertThat(back.encode(p)).containsExactly(ours);
                assertThat(hf.decode(theirs, true)).isEqualTo(p);
            }
            // the post-processor adds <s> like a Llama tokenizer
            long[] withBos = hf.encode("joy", true, false).getIds();
            assertThat(withBos).containsExactly(ByteLevelBpe.BOS, bpe.encode("joy")[0]);
        }
    }
}
