package io.labelscope.demomodel;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Autograd through the runtime's forward pass (prefix cache, expansion over the batch, left padding, answer-token
 * loss) against central finite differences, for every kind of weight. A weight whose gradient is cut off somewhere
 * in the pass (as the KV cache's copy once did for k_proj/v_proj) fails here.
 */
class GradientCheckTest {

    @Test
    void autogradMatchesFiniteDifferences(@TempDir Path dir) throws Exception {
        List<DemoData.Doc> docs = TrainerTest.toyDocs(6, 7);
        try (Trainer tr = TrainerTest.trainer(dir, docs, TrainerTest.toyOptions(1))) {
            List<Trainer.Row> batch = new ArrayList<>();
            for (DemoData.Doc d : docs) {
                batch.add(new Trainer.Row(tr.queryIds(d.text()), d.annotators().get(0), tr.answer(d.annotators().get(0))));
            }
            try (NDManager step = tr.root.newSubManager();
                 GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                gc.backward(tr.loss(step, batch));
            }
            List<String> names = List.of("model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                    "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                    "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.o_proj.weight",
                    "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.down_proj.weight",
                    "model.norm.weight");
            for (String name : names) {
                NDArray w = tr.weights().get(name);
                float[] g = w.getGradient().toFloatArray();
                int at = 0;
                for (int i = 1; i < g.length; i++) {
                    if (Math.abs(g[i]) > Math.abs(g[at])) {
                        at = i;
                    }
                }
                float[] v = w.toFloatArray();
                float eps = 1e-2f;
                double[] l = new double[2];
                for (int s = 0; s < 2; s++) {
                    float[] p = v.clone();
                    p[at] += s == 0 ? eps : -eps;
                    w.set(p);
                    try (NDManager step = tr.root.newSubManager()) {
                        l[s] = tr.loss(step, batch).getFloat();
                    }
                }
                w.set(v);
                double numeric = (l[0] - l[1]) / (2 * eps);
                assertThat(Math.abs(g[at])).as(name).isGreaterThan(1e-6f);
                assertThat((double) g[at]).as(name + " (numeric " + numeric + ")")
                        .isCloseTo(numeric, org.assertj.core.data.Offset.offset(0.05 * Math.abs(numeric) + 2e-5));
            }
        }
    }
}
