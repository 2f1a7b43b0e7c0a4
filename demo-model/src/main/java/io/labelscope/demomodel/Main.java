package io.labelscope.demomodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.math.Conventions;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.task.PromptRenderer;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code train <goemotions|mfrc> [--key value ...]}: builds the tokenizer, trains, writes the checkpoint and its
 * metrics; {@code eval <task> --model DIR}: scores a checkpoint ({@code --record FILE} also writes the decoded
 * documents in the offline eval's input format, docs/eval-format.md, for {@code labelscope eval}); {@code tasks}:
 * writes {@code tasks/*.json}.
 * Paths are relative to the working directory (the repository root).
 */
public final class Main {
    /** Seed of the MFRC annotator derivation: part of the data, not of training. */
    public static final long DATA_SEED = 2022L;

    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: train <goemotions|mfrc> [--out DIR] [--epochs N (fractions allowed)] [--multilabel-weight W] ... | eval <task> --model DIR [--record FILE] | tasks");
            System.exit(2);
        }
        Map<String, String> o = options(args);
        int threads = Integer.parseInt(o.getOrDefault("threads", "1"));
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        if (System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("DJL_OFFLINE", "true");
        }
        switch (args[0]) {
            case "train" -> train(args[1], o);
            case "eval" -> eval(args[1], o);
            case "tasks" -> tasks(Path.of(o.getOrDefault("out", "tasks")));
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

    static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--")) {
                o.put(args[i].substring(2), args[i + 1]);
                i++;
            }
        }
        return o;
    }

    static void tasks(Path dir) throws IOException {
        TaskFiles.write(dir.resolve("goemotions.json"), DemoTasks.goemotions());
        TaskFiles.write(dir.resolve("mfrc.json"), DemoTasks.mfrc());
        System.out.println("wrote " + dir.resolve("goemotions.json") + " and " + dir.resolve("mfrc.json"));
    }

    /** Default sizes per task (overridable with --vocab/--hidden/--inter/--layers/--heads). */
    static Checkpoint.Spec spec(Map<String, String> o, int vocab) {
        int hidden = Integer.parseInt(o.getOrDefault("hidden", "128"));
        int heads = Integer.parseInt(o.getOrDefault("heads", "4"));
        return new Checkpoint.Spec(vocab, hidden, Integer.parseInt(o.getOrDefault("inter", "320")),
                Integer.parseInt(o.getOrDefault("layers", "2")), heads, heads, 512);
    }

    /**
     * The tokenizer's training text: every training document as its query, the instruction, and the answer line
     * of every label set the training data holds. Label names, {@code none} and {@code label} are whole tokens.
     */
    static ByteLevelBpe tokenizer(TaskDefinition task, List<DemoData.Doc> train, int vocab) {
        PromptRenderer r = new PromptRenderer(task);
        List<String> corpus = new ArrayList<>();
        corpus.add(r.prefix());
        Set<List<String>> answers = new LinkedHashSet<>();
        for (DemoData.Doc d : train) {
            corpus.add(r.query(d.text()));
            answers.addAll(d.annotators());
        }
        for (List<String> a : answers) {
            corpus.add("\n" + r.answer(a));
        }
        // Every surface variant the runtime scores a label by (l, " l", L, " L") is one token, so no two labels
        // share a first token.
        List<String> whole = new ArrayList<>();
        for (String l : task.scoredLabels()) {
            String cap = l.substring(0, 1).toUpperCase(Locale.ROOT) + l.substring(1);
            whole.addAll(List.of(l, " " + l, cap, " " + cap));
        }
        whole.add("label");
        return ByteLevelBpe.train(corpus, vocab, whole);
    }

    static void train(String taskName, Map<String, String> o) throws Exception {
        TaskDefinition task = DemoTasks.byName(taskName);
        Path data = Path.of(o.getOrDefault("data", "data"));
        Path out = Path.of(o.getOrDefault("out", "models/demo/" + taskName));
        int limit = Integer.parseInt(o.getOrDefault("limit", "0"));
        int evalLimit = Integer.parseInt(o.getOrDefault("dev-eval-docs", "400"));
        int vocab = Integer.parseInt(o.getOrDefault("vocab", "3072"));
        boolean ge = taskName.equals("goemotions");
        Trainer.Options opt = Trainer.Options.defaults()
                .withEpochs(Double.parseDouble(o.getOrDefault("epochs", "2")))
                .withBatchSize(Integer.parseInt(o.getOrDefault("batch", ge ? "128" : "64")))
                .withPeakLr(Float.parseFloat(o.getOrDefault("lr", "3e-3")))
                .withSeed(Long.parseLong(o.getOrDefault("seed", "1234")))
                .withMaxSkippedSteps(Integer.parseInt(o.getOrDefault("max-skipped-steps", "3")))
                .withMultiLabelWeight(Double.parseDouble(o.getOrDefault("multilabel-weight", "1")));
        long t0 = System.nanoTime();
        List<DemoData.Doc> train = DemoTasks.train(taskName, data, DATA_SEED);
        if (limit > 0 && limit < train.size()) {
            train = train.subList(0, limit);
        }
        List<DemoData.Doc> dev = DemoTasks.dev(taskName, data, DATA_SEED);
        List<DemoData.Doc> devWatch = dev.subList(0, Math.min(dev.size(), evalLimit));
        Files.createDirectories(out);
        ByteLevelBpe bpe = tokenizer(task, train, vocab);
        bpe.write(out.resolve("tokenizer.json"));
        System.out.printf(Locale.ROOT, "%s: %d training documents, tokenizer %d tokens (%d merges) in %.1f s%n",
                taskName, train.size(), bpe.vocabSize(), bpe.mergeCount(), (System.nanoTime() - t0) / 1e9);
        Checkpoint.Spec spec = spec(o, bpe.vocabSize());
        System.out.printf(Locale.ROOT, "model: %s, %d parameters; options %s%n", spec, spec.parameters(), opt);
        Conventions conv = Conventions.paper();
        long tTrain = System.nanoTime();
        List<DemoData.Doc> trainDocs = train;
        try (Trainer tr = new Trainer(spec, task, out.resolve("tokenizer.json"), opt)) {
            tr.train(train, devWatch, epoch -> {
                try {
                    tr.save(out);
                    try (LlmModel m = LlmModel.load(out, RuntimeConfig.cpu().withMaxBatchSize(64))) {
                        DemoEval.Report rep = DemoEval.run(m, task, devWatch, trainDocs, conv);
                        System.out.printf("epoch %d, first %d dev documents through the runtime:%n%s", epoch,
                                devWatch.size(), rep.summary());
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, System.out);
            tr.save(out);
        }
        double trainSeconds = (System.nanoTime() - tTrain) / 1e9;
        System.out.printf(Locale.ROOT, "trained in %.1f s (%.1f s in all)%n", trainSeconds,
                (System.nanoTime() - t0) / 1e9);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("command", "train " + taskName + " " + argsOf(o));
        metrics.put("train_seconds", trainSeconds);
        metrics.put("parameters", spec.parameters());
        metrics.put("training_documents", train.size());
        if (!o.containsKey("no-final-eval")) {
            DemoEval.Report rep = evaluate(taskName, out, data, o);
            metrics.put("eval", rep.toMap());
        }
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(out.resolve("metrics.json").toFile(), metrics);
    }

    static String argsOf(Map<String, String> o) {
        StringBuilder sb = new StringBuilder();
        new java.util.TreeMap<>(o).forEach((k, v) -> sb.append("--").append(k).append(' ').append(v).append(' '));
        return sb.toString().strip();
    }

    static DemoEval.Report evaluate(String taskName, Path model, Path data, Map<String, String> o) throws IOException {
        TaskDefinition task = DemoTasks.byName(taskName);
        List<DemoData.Doc> docs = DemoTasks.eval(taskName, data, DATA_SEED);
        int limit = Integer.parseInt(o.getOrDefault("eval-limit", "0"));
        if (limit > 0 && limit < docs.size()) {
            docs = docs.subList(0, limit);
        }
        List<DemoData.Doc> train = DemoTasks.train(taskName, data, DATA_SEED);
        try (LlmModel m = LlmModel.load(model, RuntimeConfig.cpu().withMaxBatchSize(64))) {
            DemoEval.Report rep = DemoEval.run(m, task, docs, train, Conventions.paper());
            System.out.print(rep.summary());
            return rep;
        }
    }

    static void eval(String taskName, Map<String, String> o) throws IOException {
        Path data = Path.of(o.getOrDefault("data", "data"));
        Path model = Path.of(o.getOrDefault("model", "models/demo/" + taskName));
        DemoEval.Report rep = evaluate(taskName, model, data, o);
        if (o.containsKey("record")) {
            List<DemoData.Doc> docs = DemoTasks.eval(taskName, data, DATA_SEED);
            new ObjectMapper().writeValue(Path.of(o.get("record")).toFile(),
                    DemoEval.recorded(DemoTasks.byName(taskName), docs.subList(0, rep.documents()), rep.results()));
        }
        if (o.containsKey("json")) {
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(Path.of(o.get("json")).toFile(), rep.toMap());
        }
    }
}
