package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelscope.runtime.RuntimeConfig.ComputeType;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.RealShapes;
import io.labelscope.runtime.testing.TinyCheckpoint;
import io.labelscope.runtime.testing.TinyCheckpoint.FileType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link CheckpointInfo} reports a checkpoint's facts from its headers, and lists what a load would refuse. */
class CheckpointInfoTest {

    @TempDir
    Path tmp;

    @Test
    void shardedBf16QwenInstruct() throws Exception {
        TinyCheckpoint ck = RealShapes.qwen25().checkpoint(3);
        Path dir = tmp.resolve("qwen");
        ck.write(dir, FileType.BF16, 3, Fixtures.tokenizer());
        long elements = ck.weights.values().stream().mapToLong(a -> a.length).sum();

        CheckpointInfo info = CheckpointInfo.inspect(dir);

        assertThat(info.loadable()).as("unsupported: %s", info.unsupported()).isTrue();
        assertThat(info.architecture()).isEqualTo("Qwen2ForCausalLM");
        assertThat(info.parameters()).isEqualTo(elements);
        assertThat(info.parametersByFileDtype()).isEqualTo(Map.of("BF16", elements));
        assertThat(info.shards()).containsExactly("model-00001-of-00003.safetensors",
                "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors");
        long files = 0;
        for (String s : info.shards()) {
            files += Files.size(dir.resolve(s));
        }
        assertThat(info.fileBytes()).isEqualTo(files).isGreaterThan(2 * elements);
        assertThat(info.largestTensor()).isEqualTo("model.embed_tokens.weight");
        assertThat(info.largestTensorElements()).isEqualTo(151936L * 56);
        assertThat(info.bosTokenId()).isEqualTo(151643);
        assertThat(info.eosTokenIds()).containsExactly(151645, 151643);
        assertThat(info.config().layerWindows()).containsExactly(0, 0, 0, 0);

        CheckpointInfo.MemoryNeed f16Cpu = info.memory(ComputeType.F16, "cpu");
        assertThat(f16Cpu.weightBytes()).isEqualTo(2 * elements);
        assertThat(f16Cpu.hostBytes()).isGreaterThan(2 * elements);
        assertThat(f16Cpu.deviceBytes()).isZero();
        assertThat(f16Cpu.largestTensorBytes()).isEqualTo(2L * 151936 * 56);
        CheckpointInfo.MemoryNeed f32Gpu = info.memory(ComputeType.F32, "gpu:0");
        assertThat(f32Gpu.deviceBytes()).isEqualTo(4 * elements);
        assertThat(f32Gpu.hostBytes()).isLessThan(4 * elements);
        assertThat(CheckpointInfo.computeTypes("cpu")).containsExactly(ComputeType.F32, ComputeType.F16);
        assertThat(CheckpointInfo.computeTypes("gpu")).contains(ComputeType.BF16);
    }

    @Test
    void unsupportedFeaturesAreListedNotThrown() throws Exception {
        Path dir = tmp.resolve("bad");
        Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB));
        ObjectMapper om = new ObjectMapper();
        ObjectNode cfg = (ObjectNode) om.readTree(dir.resolve("config.json").toFile());
        cfg.putArray("architectures").add("GPTNeoXForCausalLM");
        om.writeValue(dir.resolve("config.json").toFile(), cfg);
        Files.delete(dir.resolve("tokenizer.json"));

        CheckpointInfo info = CheckpointInfo.inspect(dir);

        assertThat(info.loadable()).isFalse();
        assertThat(info.architecture()).isEqualTo("GPTNeoXForCausalLM");
        assertThat(info.config()).isNull();
        assertThat(info.unsupported()).hasSize(2);
        assertThat(info.unsupported().get(0)).contains("unknown architecture 'GPTNeoXForCausalLM'");
        assertThat(info.unsupported().get(1)).contains("missing file").contains("tokenizer.json");
        // The headers are still read: the parameter count does not need a supported config.
        assertThat(info.parameters()).isGreaterThan(0);
    }
}
