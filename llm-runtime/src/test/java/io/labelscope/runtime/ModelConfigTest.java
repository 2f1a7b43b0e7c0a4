package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.runtime.model.ModelConfig;
import io.labelscope.runtime.testing.RealShapes;
import io.labelscope.runtime.testing.RealShapes.Family;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ModelConfig#toJson} is the inverse of {@link ModelConfig#parse}, windows per layer included. */
class ModelConfigTest {

    private static ModelConfig parse(Map<String, Object> json) {
        return ModelConfig.parse(new ObjectMapper().valueToTree(json), "test");
    }

    @Test
    void writtenConfigsParseBackToTheSameConfig() {
        List<Family> families = List.of(RealShapes.llama32(), RealShapes.qwen25(), RealShapes.qwen25Windowed(),
                RealShapes.qwen25Windowed().with("layer_types", "layer_types",
                        List.of("sliding_attention", "full_attention", "sliding_attention", "full_attention")),
                RealShapes.mistral03(), RealShapes.mistralWindowed(), RealShapes.smolLm2());
        for (Family f : families) {
            ModelConfig cfg = parse(f.config());
            assertThat(parse(cfg.toJson("bfloat16"))).as(f.name()).isEqualTo(cfg);
        }
        assertThat(parse(RealShapes.qwen25Windowed().config()).layerWindows()).containsExactly(0, 0, 5, 5);
        assertThat(parse(RealShapes.mistralWindowed().config()).layerWindows()).containsExactly(6, 6);
        assertThat(parse(RealShapes.llama32().config()).eosTokenIds()).containsExactly(128001, 128008, 128009);
    }
}
