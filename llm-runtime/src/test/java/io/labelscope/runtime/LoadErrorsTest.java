package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.TinyCheckpoint;
import io.labelscope.runtime.testing.TinyCheckpoint.FileType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bad input fails with a message naming the file, tensor or key, and leaves nothing allocated. */
class LoadErrorsTest {

    @TempDir
    Path tmp;

    private Path good(String name) throws Exception {
        Path d = tmp.resolve(name);
        Fixtures.write(d, TinyCheckpoint.tiny(Fixtures.VOCAB));
        return d;
    }

    private void editConfig(Path d, Consumer<ObjectNode> edit) throws Exception {
        ObjectMapper om = new ObjectMapper();
        ObjectNode n = (ObjectNode) om.readTree(d.resolve("config.json").toFile());
        edit.accept(n);
        om.writeValue(d.resolve("config.json").toFile(), n);
    }

    /** Open NDArrays anywhere under the engine's system manager. */
    private static int openArraysEverywhere() {
        try (NDManager probe = NDManager.newBaseManager("PyTorch")) {
            return ((BaseNDManager) probe.getParentManager()).getManagedArrays().size();
        }
    }

    private void assertFails(Path d, String... fragments) {
        int before = openArraysEverywhere();
        assertThatThrownBy(() -> LlmModel.load(d, RuntimeConfig.cpu()).close())
                .isInstanceOf(ModelLoadException.class)
                .satisfies(e -> {
                    for (String f : fragments) {
                        assertThat(e.getMessage()).contains(f);
                    }
                });
        assertThat(openArraysEverywhere()).isEqualTo(before);
    }

    @Test
    void missingFiles() throws Exception {
        Path d = good("a");
        Files.delete(d.resolve("config.json"));
        assertFails(d, "missing file", "config.json");
        Path e = good("b");
        Files.delete(e.resolve("model.safetensors"));
        assertFails(e, "missing file", "model.safetensors");
        Path f = good("c");
        Files.delete(f.resolve("tokenizer.json"));
        assertFails(f, "missing file", "tokenizer.json");
    }

    @Test
    void missingShard() throws Exception {
        Path d = tmp.resolve("sharded");
        new TinyCheckpoint(TinyCheckpoint.tiny(Fixtures.VOCAB)).write(d, FileType.F32, 3, Fixtures.tokenizer());
        Files.delete(d.resolve("model-00002-of-00003.safetensors"));
        assertFails(d, "missing file", "model-00002-of-00003.safetensors");
    }

    @Test
    void unknownArchitecture() throws Exception {
        Path d = good("a");
        editConfig(d, n -> n.putArray("architectures").add("GPTNeoXForCausalLM"));
        assertFails(d, "unknown architecture", "GPTNeoXForCausalLM", "config.json");
    }

    @Test
    void missingKey() throws Exception {
        Path d = good("a");
        editConfig(d, n -> n.remove("hidden_size"));
        assertFails(d, "hidden_size", "config.json");
    }

    @Test
    void unsupportedRopeScaling() throws Exception {
        Path d = good("a");
        editConfig(d, n -> n.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0));
        assertFails(d, "rope_scaling", "yarn");
    }

    @Test
    void badLayerTypesQuantizationAndGenerationConfig() throws Exception {
        Path d = good("a");
        editConfig(d, n -> n.putArray("layer_types").add("full_attention"));
        assertFails(d, "layer_types must list one attention type per layer (2)", "config.json");
        Path e = good("b");
        editConfig(e, n -> n.putArray("layer_types").add("full_attention").add("chunked_attention"));
        assertFails(e, "layer_types[1] 'chunked_attention' is not supported");
        Path f = good("c");
        editConfig(f, n -> n.putArray("layer_types").add("full_attention").add("sliding_attention"));
        assertFails(f, "layer_types[1] is sliding_attention but no sliding_window is in use");
        Path g = good("d");
        editConfig(g, n -> n.putObject("quantization_config").put("quant_method", "gptq"));
        assertFails(g, "quantized checkpoints are not supported", "gptq");
        Path h = good("e");
        Files.writeString(h.resolve("generation_config.json"), "{\"eos_token_id\": [\"x\"]}");
        assertFails(h, "generation_config.json", "eos_token_id");
    }

    @Test
    void shapeMismatchAfterSomeTensorsLoaded() throws Exception {
        Path d = good("a");
        // Layer 1's shapes disagree with config: layer 0 has already been loaded when this is found.
        TinyCheckpoint other = new TinyCheckpoint(TinyCheckpoint.tiny(Fixtures.VOCAB));
        other.shapes.put("model.layers.1.mlp.up_proj.weight", new long[] {32, 64});
        other.writeSafetensors(d.resolve("model.safetensors"), new ArrayList<>(other.weights.keySet()), FileType.F32);
        assertFails(d, "shape mismatch", "model.layers.1.mlp.up_proj.weight", "[64, 32]", "[32, 64]");
    }

    @Test
    void missingTensor() throws Exception {
        Path d = good("a");
        TinyCheckpoint ck = new TinyCheckpoint(TinyCheckpoint.tiny(Fixtures.VOCAB));
        List<String> names = new ArrayList<>(ck.weights.keySet());
        names.remove("lm_head.weight");
        ck.writeSafetensors(d.resolve("model.safetensors"), names, FileType.F32);
        assertFails(d, "lm_head.weight");
    }

    @Test
    void unsupportedDtype() throws Exception {
        Path d = good("a");
        Path f = d.resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(f);
        String s = new String(bytes, StandardCharsets.ISO_8859_1);
        int at = s.indexOf("\"F32\"");
        byte[] f64 = "\"F64\"".getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(f64, 0, bytes, at, f64.length);
        Files.write(f, bytes);
        assertFails(d, "unsupported dtype F64", "model.safetensors");
    }

    @Test
    void tokenizerVocabMismatch() throws Exception {
        Path d = tmp.resolve("small");
        // vocab_size 200 < the tokenizer's 259+ ids.
        Fixtures.write(d, TinyCheckpoint.tiny(200));
        assertFails(d, "tokenizer/vocab mismatch", "tokenizer.json", "vocab_size is 200");
    }

    @Test
    void brokenTokenizer() throws Exception {
        Path d = good("a");
        ObjectMapper om = new ObjectMapper();
        ObjectNode tok = (ObjectNode) om.readTree(d.resolve("tokenizer.json").toFile());
        ((ObjectNode) tok.get("model")).put("type", "NoSuchModel");
        om.writeValue(d.resolve("tokenizer.json").toFile(), tok);
        assertFails(d, "tokenizer", "tokenizer.json");
    }

    @Test
    void goodCheckpointLoadsAndCloses() throws Exception {
        int before = openArraysEverywhere();
        try (LlmModel m = LlmModel.load(good("ok"), RuntimeConfig.cpu())) {
            assertThat(m.openArrays()).isGreaterThan(10);
        }
        assertThat(openArraysEverywhere()).isEqualTo(before);
    }
}
