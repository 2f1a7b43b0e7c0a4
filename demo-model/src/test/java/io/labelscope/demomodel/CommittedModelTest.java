package io.labelscope.demomodel;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.decode.LabelStepRecord;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The committed demo checkpoints load through the runtime like any Hugging Face model and classify a handful of
 * held-out documents with the committed task files: valid JSON answers, label steps with proper distributions.
 */
class CommittedModelTest {
    static final Path ROOT = Path.of(System.getProperty("labelscope.root", ".."));

    @ParameterizedTest
    @ValueSource(strings = {"goemotions", "mfrc"})
    void classifiesHeldOutTextsWithLabelSteps(String name) throws Exception {
        TaskDefinition task = TaskFiles.read(ROOT.resolve("tasks/" + name + ".json"));
        assertThat(task).isEqualTo(DemoTasks.byName(name));
        // the first 6 held-out documents whose annotator majority chose no label and the first 6 with one
        List<DemoData.Doc> all = DemoTasks.eval(name, ROOT.resolve("data"), Main.DATA_SEED);
        List<DemoData.Doc> docs = new ArrayList<>(all.stream().filter(d -> majority(task, d).isEmpty()).limit(6).toList());
        docs.addAll(all.stream().filter(d -> !majority(task, d).isEmpty()).limit(6).toList());
        List<String> scored = task.scoredLabels();
        try (LlmModel m = LlmModel.load(ROOT.resolve("models/demo/" + name), RuntimeConfig.cpu());
             LabelDecoder dec = new LabelDecoder(m, task, true)) {
            assertThat(dec.labelSpace().collisions()).isEmpty();
            List<GenerationResult> rs = dec.classify(docs.stream().map(DemoData.Doc::text).toList());
            List<String> answers = new ArrayList<>();
            for (GenerationResult r : rs) {
                answers.add(r.answer());
                assertThat(DemoEval.validJson(r.answer(), task.labels())).as(r.answer()).isTrue();
                assertThat(r.steps()).as(r.answer()).isNotEmpty();
                assertThat(r.parsedLabels()).isNotEmpty();
                for (LabelStepRecord s : r.steps()) {
                    assertThat(scored).contains(s.generatedLabel());
                    assertThat(s.probabilities()).hasSize(scored.size());
                    double sum = 0;
                    for (double p : s.probabilities()) {
                        sum += p;
                    }
                    assertThat(sum).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
                    // the label written at a step is the one the model ranked first there (greedy decoding)
                    int argmax = 0;
                    for (int i = 1; i < s.probabilities().length; i++) {
                        if (s.probabilities()[i] > s.probabilities()[argmax]) {
                            argmax = i;
                        }
                    }
                    assertThat(scored.get(argmax)).isEqualTo(s.generatedLabel());
                }
                // steps and the parsed answer agree
                assertThat(r.steps().stream().map(LabelStepRecord::generatedLabel).toList())
                        .isEqualTo(r.parsedLabels());
            }
            // the first-step distribution depends on the text (MFRC's greedy answers are nearly all ["none"], see
            // its MODEL.md; its probabilities still move with the document)
            List<String> firstSteps = rs.stream()
                    .map(r -> java.util.Arrays.toString(r.steps().get(0).probabilities())).distinct().toList();
            assertThat(firstSteps.size()).as("distinct first-step distributions").isGreaterThan(docs.size() / 2);
            if (name.equals("goemotions")) {
                // a real classifier: not one constant answer for every document
                assertThat(answers.stream().distinct().count()).as(answers.toString()).isGreaterThan(1);
            }
        }
    }

    static List<String> majority(TaskDefinition task, DemoData.Doc d) {
        double[] h = io.labelscope.math.HumanDistribution.of(task.labels(), d.annotators());
        return io.labelscope.math.Alignment.humanMajority(task.labels(), h, io.labelscope.math.Conventions.paper());
    }
}
