package io.labelscope.cli;

import io.labelscope.runtime.CheckpointInfo;
import io.labelscope.runtime.ModelLoadException;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.TextTokenizer;
import io.labelscope.runtime.model.ModelConfig;
import io.labelscope.runtime.task.ChatTemplate;
import io.labelscope.runtime.task.LabelSpace;
import io.labelscope.runtime.task.PromptRenderer;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code labelscope model inspect}: what a checkpoint is and how a task's prompt and labels tokenise on it. */
@Command(name = "model",
        mixinStandardHelpOptions = true,
        description = "Inspect Hugging Face checkpoints the inference worker can load.",
        subcommands = {ModelCommand.Inspect.class})
final class ModelCommand {

    /** Sample document when the task has no demos and none is given. */
    static final String SAMPLE_DOCUMENT = "I am so happy today";

    private ModelCommand() {
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = {"Architecture, parameters, file dtypes, shards, memory for the compute dtype on the device, "
                    + "tokenizer family, BOS/EOS ids and whether a chat template is present; with --task, each "
                    + "label's first-token ids and variants, collisions, rejected variants, and the rendered prompt "
                    + "of a sample document with its token count. No weights are loaded.",
                    "",
                    "An unsupported checkpoint (architecture, tensor dtype, RoPE scaling) prints one line and exits 2."})
    static final class Inspect implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DIR", description = "Checkpoint directory (config.json, *.safetensors, "
                + "tokenizer.json).")
        Path dir;

        @Option(names = "--task", paramLabel = "FILE", description = "A task definition file (JSON).")
        Path task;

        @Option(names = "--device", defaultValue = "cpu", description = "cpu or gpu (default ${DEFAULT-VALUE}).")
        String device;

        @Option(names = "--dtype", defaultValue = "f32",
                description = "Compute dtype: f32, f16 or bf16 (default ${DEFAULT-VALUE}).")
        String dtype;

        @Option(names = "--document", paramLabel = "TEXT",
                description = "Sample document to render (default: the task's first demo text).")
        String document;

        @Override
        public Integer call() throws Exception {
            inspect(dir, task, device, dtype, document, spec.commandLine().getOut());
            return 0;
        }
    }

    /**
     * The compute dtype the runtime would use on {@code device}; anything else is the user's error. BF16 is kept as
     * BF16 on a GPU only: the CPU build of libtorch has no BF16 kernels ({@link CheckpointInfo#computeTypes}).
     */
    static RuntimeConfig.ComputeType computeType(String dtype, String device) {
        RuntimeConfig.ComputeType type = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "f32" -> RuntimeConfig.ComputeType.F32;
            case "f16" -> RuntimeConfig.ComputeType.F16;
            case "bf16" -> RuntimeConfig.ComputeType.BF16;
            default -> throw new Labelscope.UserError("--dtype must be f32, f16 or bf16, got '" + dtype + "'", 2);
        };
        if (!CheckpointInfo.computeTypes(device).contains(type)) {
            throw new Labelscope.UserError("unsupported compute dtype " + dtype + " on " + device
                    + ": the runtime computes in f32 or f16 there (bf16 weights are converted while loading); use "
                    + "--dtype f32 or f16, or --device gpu", 2);
        }
        return type;
    }

    static void inspect(Path dir, Path taskFile, String device, String dtype, String document, PrintWriter out)
            throws IOException {
        if (!device.equals("cpu") && !device.equals("gpu")) {
            throw new Labelscope.UserError("--device must be cpu or gpu, got '" + device + "'", 2);
        }
        RuntimeConfig.ComputeType type = computeType(dtype, device);
        if (!Files.isDirectory(dir)) {
            throw new Labelscope.UserError(dir + ": no such checkpoint directory", 2);
        }
        CheckpointInfo info = CheckpointInfo.inspect(dir);
        if (!info.loadable()) {
            throw new Labelscope.UserError("unsupported checkpoint: " + String.join("; ", info.unsupported()), 2);
        }
        TaskDefinition task = null;
        if (taskFile != null) {
            if (!Files.isRegularFile(taskFile)) {
                throw new Labelscope.UserError(taskFile + ": no such file", 2);
            }
            try {
                task = TaskFiles.read(taskFile);
            } catch (IllegalArgumentException e) {
                throw new Labelscope.UserError(e.getMessage(), 2);
            }
        }
        Optional<ChatTemplate> chat = ChatTemplate.load(dir);
        out.println("checkpoint:     " + dir);
        ModelConfig cfg = info.config();
        CheckpointInfo.MemoryNeed memory = info.memory(type, device);
        long kvBytesPerToken = 2L * cfg.numLayers() * cfg.numKvHeads() * cfg.headDim() * type.bytes;
        out.println("architecture:   " + info.architecture() + " (" + shape(cfg) + ")");
        out.println("parameters:     " + String.format(Locale.ROOT, "%,d", info.parameters()));
        out.println("file dtypes:    " + dtypes(info.parametersByFileDtype()));
        out.println("files:          " + info.shards().size() + " (" + String.join(", ", info.shards()) + "; "
                + size(info.fileBytes()) + ")");
        out.println("memory:         weights " + size(memory.weightBytes()) + " as " + dtype + " on " + device
                + " (host " + size(memory.hostBytes()) + ", GPU " + size(memory.deviceBytes()) + ", largest tensor "
                + info.largestTensor() + " " + size(memory.largestTensorBytes()) + "), KV cache "
                + size(kvBytesPerToken) + " per token of context per sequence");
        out.println("tokenizer:      " + TextTokenizer.family(dir));
        out.println("BOS/EOS ids:    " + (info.bosTokenId() < 0 ? "none" : info.bosTokenId()) + " / "
                + info.eosTokenIds());
        out.println("chat template:  " + (chat.isPresent() ? "present" : "absent"));
        if (task != null) {
            try (TextTokenizer tok = TextTokenizer.load(dir)) {
                describeTask(task, dir, tok, document, out);
            } catch (ModelLoadException | IllegalArgumentException e) {
                throw new Labelscope.UserError(e.getMessage(), 2);
            }
        }
        out.flush();
    }

    private static void describeTask(TaskDefinition task, Path dir, TextTokenizer tok, String document,
                                     PrintWriter out) {
        PromptRenderer renderer = PromptRenderer.forCheckpoint(task, dir);
        LabelSpace space = new LabelSpace(tok, renderer);
        out.println("task:           " + task.name() + " (prompt_format "
                + (task.promptFormat().isChat() ? "chat" : "plain") + ", " + task.labels().size() + " labels)");
        for (int i = 0; i < space.names().size(); i++) {
            long in = space.inPromptToken(i);
            List<String> variants = new ArrayList<>();
            for (long t : space.tokens(i)) {
                variants.add(t + " " + quoted(tok, t));
            }
            out.println("  label " + space.names().get(i) + ": first token in prompt " + in + " " + quoted(tok, in)
                    + "; scored by " + String.join(", ", variants));
        }
        out.println("collisions:     " + (space.collisions().isEmpty() ? "none" : ""));
        space.collisions().forEach(c -> out.println("  " + c));
        out.println("rejected variants: " + (space.rejected().isEmpty() ? "none" : ""));
        space.rejected().forEach(r -> out.println("  " + r));
        printSamplePrompt(renderer, tok, sampleDocument(task, document), out);
    }

    /** The given document, else the task's first demo text, else {@link #SAMPLE_DOCUMENT}. */
    static String sampleDocument(TaskDefinition task, String document) {
        return document != null ? document
                : task.demoPool().isEmpty() ? SAMPLE_DOCUMENT : task.demoPool().get(0).text();
    }

    /**
     * The prompt the worker would build for {@code document} (renderer for the checkpoint: its chat template when
     * the task is chat-formatted) and its length in the checkpoint's tokens, special tokens included as the
     * runtime adds them; shared by {@code model inspect --task} and {@code task show --render}.
     */
    static void printSamplePrompt(PromptRenderer renderer, TextTokenizer tok, String document, PrintWriter out) {
        String prompt = renderer.prompt(document);
        int tokens = tok.encode(prompt, renderer.addSpecialTokens()).length;
        out.println("sample prompt:  " + tokens + " tokens, document \"" + document + "\"");
        out.println("----");
        out.println(prompt);
        out.println("----");
    }

    /** Layers, hidden size, heads, KV heads, head dim, vocabulary, tied embeddings, RoPE. */
    private static String shape(ModelConfig cfg) {
        String rope = "rope_theta " + cfg.ropeTheta() + (cfg.ropeScaling() == null ? ", no rope scaling"
                : ", rope_scaling " + cfg.ropeScaling().type() + " x" + cfg.ropeScaling().factor());
        return cfg.numLayers() + " layers, hidden " + cfg.hiddenSize() + ", intermediate " + cfg.intermediateSize()
                + ", " + cfg.numHeads() + " heads / " + cfg.numKvHeads() + " KV heads, head_dim " + cfg.headDim()
                + ", vocab " + cfg.vocabSize() + (cfg.tieWordEmbeddings() ? ", tied embeddings" : "") + ", " + rope
                + ", max positions " + cfg.maxPositionEmbeddings();
    }

    private static String quoted(TextTokenizer tok, long id) {
        return "'" + tok.decode(new long[] {id}).replace("\n", "\\n") + "'";
    }

    private static String dtypes(Map<String, Long> byDtype) {
        List<String> parts = new ArrayList<>();
        byDtype.forEach((k, v) -> parts.add(k + " " + String.format(Locale.ROOT, "%,d", v) + " parameters"));
        return String.join(", ", parts);
    }

    static String size(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        }
        if (bytes >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        }
        return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
}
