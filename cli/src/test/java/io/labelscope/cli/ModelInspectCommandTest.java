package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import io.labelscope.runtime.TextTokenizer;
import io.labelscope.runtime.task.PromptRenderer;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #16 item 7: {@code labelscope model inspect} on the committed demo checkpoint (facts derived here from its
 * config.json and tokenizer, not copied), and on unsupported checkpoints (Qwen3, Gemma, yarn RoPE, FP8 weights, bf16
 * compute): one line on stderr and exit code 2.
 */
class ModelInspectCommandTest {

    static final Path DEMO = Path.of("..", "models", "demo", "goemotions");
    static final Path TASK = Path.of("..", "tasks", "goemotions.json");
    static final ObjectMapper JSON = new ObjectMapper();

    /** Runs the command line and checks its exit code: {stdout, stderr}. */
    private static String[] run(int expectedExit, String... args) {
        return TaskCommandTest.run(expectedExit, args);
    }

    /** Llama parameters from config.json: embeddings (+ lm_head unless tied), per layer attention, MLP, 2 norms. */
    static long llamaParameters(JsonNode c) {
        long v = c.get("vocab_size").asLong();
        long h = c.get("hidden_size").asLong();
        long i = c.get("intermediate_size").asLong();
        long l = c.get("num_hidden_layers").asLong();
        long hd = c.get("head_dim").asLong();
        long q = c.get("num_attention_heads").asLong() * hd;
        long kv = c.get("num_key_value_heads").asLong() * hd;
        long perLayer = h * q + 2 * h * kv + q * h + 3 * h * i + 2 * h;
        return v * h * (c.get("tie_word_embeddings").asBoolean() ? 1 : 2) + l * perLayer + h;
    }

    @Test
    void inspectsTheDemoCheckpointAndATask() throws Exception {
        JsonNode config = JSON.readTree(DEMO.resolve("config.json").toFile());
        long params = llamaParameters(config);
        String out = run(0, "model", "inspect", DEMO.toString(), "--task", TASK.toString(), "--device", "gpu",
                "--dtype", "f16")[0];
        assertThat(out).contains("architecture:   " + config.get("architectures").get(0).asText());
        assertThat(out).contains("parameters:     " + String.format(Locale.ROOT, "%,d", params));
        assertThat(out).contains("file dtypes:    F32 " + String.format(Locale.ROOT, "%,d", params) + " parameters");
        assertThat(out).contains("files:          1 (model.safetensors; ");
        assertThat(out).contains("weights " + ModelCommand.size(params * 2) + " as f16 on gpu");
        long kv = 2L * config.get("num_hidden_layers").asLong() * config.get("num_key_value_heads").asLong()
                * config.get("head_dim").asLong() * 2;
        assertThat(out).contains("KV cache " + ModelCommand.size(kv) + " per token");
        assertThat(out).contains("tokenizer:      byte-level BPE");
        assertThat(out).contains("BOS/EOS ids:    " + config.get("bos_token_id").asInt() + " / ["
                + config.get("eos_token_id").asInt() + "]");
        assertThat(out).contains("chat template:  absent");

        TaskDefinition task = TaskFiles.read(TASK);
        try (TextTokenizer tok = TextTokenizer.load(DEMO)) {
            PromptRenderer r = new PromptRenderer(task);
            for (String label : task.scoredLabels()) {
                // The token covering the label's first character in its rendered answer.
                String answer = r.answer(List.of(label));
                int at = r.labelOffsetInAnswer(label);
                Encoding e = tok.encoding(answer, false);
                long first = -1;
                for (int i = 0; i < e.getIds().length; i++) {
                    CharSpan span = e.getCharTokenSpans()[i];
                    if (span != null && span.getStart() <= at && at < span.getEnd()) {
                        first = e.getIds()[i];
                    }
                }
                assertThat(out).contains("  label " + label + ": first token in prompt " + first + " ");
            }
            String doc = task.demoPool().isEmpty() ? ModelCommand.SAMPLE_DOCUMENT : task.demoPool().get(0).text();
            String prompt = r.prompt(doc);
            assertThat(out).contains("sample prompt:  " + tok.encode(prompt, true).length + " tokens");
            assertThat(out).contains("----\n" + prompt + "\n----");
        }
        assertThat(out).contains("collisions:     ").contains("rejected variants: ");
    }

    /** The demo checkpoint with config.json changed by {@code edit}. */
    static Path variant(Path dir, java.util.function.Consumer<ObjectNode> edit) throws Exception {
        for (String f : new String[] {"model.safetensors", "tokenizer.json"}) {
            Files.copy(DEMO.resolve(f), dir.resolve(f));
        }
        ObjectNode config = (ObjectNode) JSON.readTree(DEMO.resolve("config.json").toFile());
        edit.accept(config);
        JSON.writeValue(dir.resolve("config.json").toFile(), config);
        return dir;
    }

    static void assertOneLine(String[] outErr, String... mentions) {
        assertThat(outErr[0]).isEmpty();
        String err = outErr[1].strip();
        assertThat(err).doesNotContain("\n").startsWith("labelscope model inspect: ");
        for (String m : mentions) {
            assertThat(err).contains(m);
        }
    }

    @Test
    void unsupportedArchitecturesGetOneLineAndExitTwo(@TempDir Path a, @TempDir Path b) throws Exception {
        variant(a, c -> c.putArray("architectures").add("Qwen3ForCausalLM"));
        assertOneLine(run(2, "model", "inspect", a.toString()), "unsupported checkpoint", "Qwen3ForCausalLM");
        variant(b, c -> c.putArray("architectures").add("GemmaForCausalLM"));
        assertOneLine(run(2, "model", "inspect", b.toString()), "GemmaForCausalLM");
    }

    @Test
    void unsupportedRopeScalingGetsOneLine(@TempDir Path dir) throws Exception {
        variant(dir, c -> c.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0)
                .put("original_max_position_embeddings", 128));
        assertOneLine(run(2, "model", "inspect", dir.toString()), "rope_scaling", "yarn");
    }

    @Test
    void fp8WeightsGetOneLine(@TempDir Path dir) throws Exception {
        variant(dir, c -> { });
        Files.delete(dir.resolve("model.safetensors"));
        byte[] header = "{\"model.embed_tokens.weight\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}"
                .getBytes(StandardCharsets.UTF_8);
        try (OutputStream o = Files.newOutputStream(dir.resolve("model.safetensors"))) {
            o.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            o.write(header);
            o.write(new byte[2]);
        }
        assertOneLine(run(2, "model", "inspect", dir.toString()), "F8_E4M3");
    }

    @Test
    void bf16ComputeAndBadOptionsGetOneLine() {
        assertOneLine(run(2, "model", "inspect", DEMO.toString(), "--dtype", "bf16"), "bf16", "f32 or f16");
        assertOneLine(run(2, "model", "inspect", DEMO.toString(), "--device", "tpu"), "--device must be cpu or gpu");
    }
}
