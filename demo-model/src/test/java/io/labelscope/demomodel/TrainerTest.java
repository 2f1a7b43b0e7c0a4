package io.labelscope.demomodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.task.TaskDefinition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer on a toy task a tiny model learns in seconds: the label is named by a keyword in the text. */
class TrainerTest {
    static final TaskDefinition TASK =
            TaskDefinition.defaults("toy", List.of("joy", "fear", "anger"), List.of(), 0, 0).withMaxNewTokens(16);

    static List<DemoData.Doc> toyDocs(int n, long seed) {
        String[] subjects = {"the cat", "my friend", "this movie", "our neighbour", "the teacher", "a stranger"};
        String[][] cues = {{"happy", "glad"}, {"scared", "afraid"}, {"furious", "angry"}};
        Random r = new Random(seed);
        List<DemoData.Doc> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<String> labels = new ArrayList<>();
            StringBuilder t = new StringBuilder(subjects[r.nextInt(subjects.length)]).append(" is");
            for (int l = 0; l < 3; l++) {
                if (r.nextInt(3) == 0) {
                    labels.add(TASK.labels().get(l));
                    t.append(labels.size() > 1 ? " and " : " ").append(cues[l][r.nextInt(2)]);
                }
            }
            if (labels.isEmpty()) {
                t.append(" here");
            }
            out.add(new DemoData.Doc("toy-" + i, t.toString(), List.of(List.copyOf(labels))));
        }
        return out;
    }

    static Trainer trainer(Path dir, List<DemoData.Doc> docs, Trainer.Options opt) throws Exception {
        ByteLevelBpe bpe = Main.tokenizer(TASK, docs, 320);
        bpe.write(dir.resolve("tokenizer.json"));
        Checkpoint.Spec spec = new Checkpoint.Spec(bpe.vocabSize(), 32, 64, 1, 2, 2, 128);
        return new Trainer(spec, TASK, dir.resolve("tokenizer.json"), opt);
    }

    static Trainer.Options toyOptions(double epochs) {
        return Trainer.Options.defaults().withEpochs(epochs).withBatchSize(32).withPeakLr(1e-2f).withSeed(5);
    }

    @Test
    void lossFallsOnAToySetAndTheCheckpointClassifiesThroughTheRuntime(@TempDir Path dir) throws Exception {
        List<DemoData.Doc> docs = toyDocs(256, 1);
        List<Float> losses;
        try (Trainer tr = trainer(dir, docs, toyOptions(12))) {
            losses = tr.train(docs, List.of(), null, null);
            tr.save(dir);
        }
        double first = losses.get(0);
        double last = losses.subList(losses.size() - 5, losses.size()).stream().mapToDouble(Float::doubleValue)
                .average().orElseThrow();
        assertThat(first).isGreaterThan(3.0); // about ln(vocab) at the start
        assertThat(last).as("losses %s", losses).isLessThan(0.25 * first);
        assertThat(losses).allSatisfy(l -> assertThat(l).isFinite());

        // the written checkpoint is a Hugging Face directory the runtime loads and decodes with label steps
        try (LlmModel m = LlmModel.load(dir, RuntimeConfig.cpu());
             LabelDecoder dec = new LabelDecoder(m, TASK, true)) {
            List<GenerationResult> rs = dec.classify(List.of("the cat is happy", "my friend is scared"));
            for (GenerationResult r : rs) {
                assertThat(DemoEval.validJson(r.answer(), TASK.labels())).as(r.answer()).isTrue();
                assertThat(r.steps()).isNotEmpty();
            }
        }
    }

    @Test
    void sameSeedSameLosses(@TempDir Path a, @TempDir Path b) throws Exception {
        List<DemoData.Doc> docs = toyDocs(96, 2);
        List<Float> la;
        List<Float> lb;
        try (Trainer tr = trainer(a, docs, toyOptions(1))) {
            la = tr.train(docs, List.of(), null, null);
        }
        try (Trainer tr = trainer(b, docs, toyOptions(1))) {
            lb = tr.train(docs, List.of(), null, null);
        }
        assertThat(la).hasSize(3).isEqualTo(lb);
        try (Trainer tr = trainer(b, docs, toyOptions(1).withSeed(6))) {
            assertThat(tr.train(docs, List.of(), null, null)).isNotEqualTo(la);
        }
    }

    @Test
    void aNonFiniteLossStopsTraining(@TempDir Path dir) throws Exception {
        List<DemoData.Doc> docs = toyDocs(64, 3);
        try (Trainer tr = trainer(dir, docs, toyOptions(1))) {
            NDArray norm = tr.weights().get("model.norm.weight");
            // poison one weight: the very first step must refuse to go on
            norm.set(new ai.djl.ndarray.index.NDIndex("0"), Float.NaN);
            assertThatThrownBy(() -> tr.train(docs, List.of(), null, null))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("NaN")
                    .hasMessageContaining("step 1");
        }
    }

    @Test
    void answersAreTheJsonLineThenEndOfSequence(@TempDir Path dir) throws Exception {
        List<DemoData.Doc> docs = toyDocs(32, 4);
        try (Trainer tr = trainer(dir, docs, toyOptions(1))) {
            long[] a = tr.answer(List.of("joy", "fear"));
            assertThat(a[a.length - 1]).isEqualTo(ByteLevelBpe.EOS);
            ByteLevelBpe bpe = ByteLevelBpe.read(dir.resolve("tokenizer.json"));
            int[] ids = new int[a.length - 1];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (int) a[i];
            }
            assertThat(bpe.decode(ids)).isEqualTo("\n{\"label\": [\"joy\", \"fear\"]}");
        }
    }

    static double multiLabelShare(List<List<Trainer.Row>> batches) {
        long rows = batches.stream().mapToLong(List::size).sum();
        long multi = batches.stream().flatMap(List::stream).filter(r -> r.labels().size() >= 2).count();
        return (double) multi / rows;
    }

    @Test
    void multiLabelWeightRepeatsMultiLabelAnswersDeterministically(@TempDir Path dir) throws Exception {
        List<DemoData.Doc> docs = toyDocs(300, 8);
        long multiDocs = docs.stream().filter(d -> d.annotators().get(0).size() >= 2).count();
        assertThat(multiDocs).isBetween(30L, 150L);
        try (Trainer plain = trainer(dir, docs, toyOptions(1));
             Trainer triple = trainer(dir, docs, toyOptions(1).withMultiLabelWeight(3));
             Trainer half = trainer(dir, docs, toyOptions(1).withMultiLabelWeight(1.5))) {
            List<Trainer.Example> ex = plain.examples(docs);
            List<List<Trainer.Row>> p = plain.epochBatches(ex, new Random(9));
            List<List<Trainer.Row>> t = triple.epochBatches(ex, new Random(9));
            // weight 3: every multi-label row three times, every other row once
            assertThat(p.stream().mapToLong(List::size).sum()).isEqualTo(docs.size());
            assertThat(t.stream().mapToLong(List::size).sum()).isEqualTo(docs.size() + 2 * multiDocs);
            double share = (double) multiDocs / docs.size();
            assertThat(multiLabelShare(p)).isCloseTo(share, org.assertj.core.data.Offset.offset(1e-12));
            assertThat(multiLabelShare(t)).isCloseTo(3.0 * multiDocs / (docs.size() + 2 * multiDocs),
                    org.assertj.core.data.Offset.offset(1e-12));
            // weight 1.5: each multi-label row once or twice, about half of them twice
            long rowsHalf = half.epochBatches(ex, new Random(9)).stream().mapToLong(List::size).sum();
            assertThat(rowsHalf - docs.size()).isBetween(multiDocs / 4, 3 * multiDocs / 4);
            // the same seed draws the same batches, row for row
            List<List<Trainer.Row>> again = triple.epochBatches(ex, new Random(9));
            assertThat(again).hasSameSizeAs(t);
            for (int i = 0; i < t.size(); i++) {
                assertThat(again.get(i)).containsExactlyElementsOf(t.get(i));
            }
        }
        assertThatThrownBy(() -> toyOptions(1).withMultiLabelWeight(0.5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFractionalEpochRunsPartOfTheLastPass(@TempDir Path dir) throws Exception {
        List<DemoData.Doc> docs = toyDocs(320, 10); // 10 batches of 32 per epoch
        try (Trainer tr = trainer(dir, docs, toyOptions(1.5))) {
            List<List<List<Trainer.Row>>> plan = tr.plan(tr.examples(docs), new Random(3));
            assertThat(plan).hasSize(2);
            assertThat(plan.get(0)).hasSize(10);
            assertThat(plan.get(1)).hasSize(5);
            assertThat(tr.train(docs, List.of(), null, null)).hasSize(15);
        }
        try (Trainer tr = trainer(dir, docs, toyOptions(2))) {
            assertThat(tr.plan(tr.examples(docs), new Random(3)).stream().mapToInt(List::size).sum()).isEqualTo(20);
        }
    }
}
