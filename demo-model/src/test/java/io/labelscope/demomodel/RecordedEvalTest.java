package io.labelscope.demomodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import io.labelscope.math.Conventions;
import io.labelscope.math.Method;
import io.labelscope.math.eval.OfflineEval;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.task.TaskDefinition;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code eval --record}: the decoded documents, written in the offline eval's input format and read back by
 * {@code labelscope eval}'s OfflineEval, score exactly what DemoEval scored (the committed model, real runtime).
 */
class RecordedEvalTest {

    @Test
    void theRecordedFileScoresLikeTheDemoEval() {
        Path root = CommittedModelTest.ROOT;
        TaskDefinition task = DemoTasks.byName("mfrc");
        List<DemoData.Doc> docs = DemoTasks.eval("mfrc", root.resolve("data"), Main.DATA_SEED).subList(0, 16);
        try (LlmModel m = LlmModel.load(root.resolve("models/demo/mfrc"), RuntimeConfig.cpu())) {
            DemoEval.Report rep = DemoEval.run(m, task, docs, null, Conventions.paper());
            JsonNode recorded = DemoEval.recorded(task, docs, rep.results());
            assertThat(recorded.get("documents")).hasSize(16);
            JsonNode out = OfflineEval.run(recorded, Conventions.paper());
            for (Method method : List.of(Method.MAX_OVER_GENERATIONS, Method.COMPARE_TO_NONE,
                    Method.HARD_PREDICTIONS)) {
                JsonNode agg = out.at("/aggregate/methods/" + method.wireName());
                DemoEval.Means means = rep.methods().get(method);
                assertThat(agg.get("n_docs").asInt()).isEqualTo(16);
                assertThat(agg.get("nll").asDouble()).as(method.wireName()).isCloseTo(means.nll(), within(1e-12));
                assertThat(agg.get("l1").asDouble()).isCloseTo(means.l1(), within(1e-12));
                assertThat(agg.get("example_f1").asDouble()).isCloseTo(means.f1(), within(1e-12));
            }
        }
    }
}
