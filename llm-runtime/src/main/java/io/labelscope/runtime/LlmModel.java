package io.labelscope.runtime;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.runtime.model.CausalLm;
import io.labelscope.runtime.model.ModelConfig;
import io.labelscope.runtime.model.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A loaded Hugging Face checkpoint directory: {@code config.json}, {@code model.safetensors} (or shards with
 * {@code model.safetensors.index.json}) and {@code tokenizer.json}. Thread-compatible, not thread-safe: one decoding
 * call at a time. Close it to free the native memory.
 */
public final class LlmModel implements AutoCloseable {

    private final Path dir;
    private final ModelConfig config;
    private final RuntimeConfig runtime;
    private final NDManager manager;
    private final CausalLm lm;
    private final HuggingFaceTokenizer tokenizer;
    private final TextTokenizer text;

    private LlmModel(Path dir, ModelConfig config, RuntimeConfig runtime, NDManager manager, CausalLm lm,
                     HuggingFaceTokenizer tokenizer) {
        this.dir = dir;
        this.config = config;
        this.runtime = runtime;
        this.manager = manager;
        this.lm = lm;
        this.tokenizer = tokenizer;
        this.text = TextTokenizer.wrap(tokenizer);
    }

    /**
     * Loads a checkpoint. Throws {@link ModelLoadException} naming the file, tensor or key at fault; nothing stays
     * allocated after a failure.
     */
    public static LlmModel load(Path dir, RuntimeConfig runtime) {
        ModelConfig cfg = ModelConfig.load(dir);
        Path tokFile = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokFile)) {
            throw new ModelLoadException("missing file: " + tokFile);
        }
        checkTokenizerVocab(tokFile, cfg);
        SafeTensors st = SafeTensors.open(dir);
        prepareEngine(runtime);
        Device device = Device.fromName(runtime.device());
        DataType dtype = switch (runtime.dtype()) {
            case F32 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case BF16 -> DataType.BFLOAT16;
        };
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        HuggingFaceTokenizer tok = null;
        try {
            CausalLm lm = CausalLm.load(cfg, st, manager.newSubManager(), dtype);
            try {
                tok = HuggingFaceTokenizer.newInstance(tokFile,
                        Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
            } catch (IOException | RuntimeException e) {
                throw new ModelLoadException("cannot load tokenizer " + tokFile + ": " + e.getMessage(), e);
            }
            return new LlmModel(dir, cfg, runtime, manager, lm, tok);
        } catch (RuntimeException | Error e) {
            // Errors too (an OutOfMemoryError outside the tensor copies): nothing native may outlive a failed load.
            manager.close();
            if (tok != null) {
                tok.close();
            }
            if (e instanceof ModelLoadException mle) {
                throw mle;
            }
            if (e instanceof Error err && !(err instanceof OutOfMemoryError)) {
                throw err;
            }
            throw new ModelLoadException("cannot load model from " + dir + ": " + e, e);
        }
    }

    /** Offline by default, optional thread count; must happen before the PyTorch engine starts. */
    private static synchronized void prepareEngine(RuntimeConfig runtime) {
        if (System.getenv("DJL_OFFLINE") == null && System.getProperty("DJL_OFFLINE") == null) {
            System.setProperty("DJL_OFFLINE", "true");
        }
        if (runtime.threads() > 0 && System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(runtime.threads()));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
        Engine.getEngine("PyTorch");
    }

    /** The tokenizer must not produce ids the embedding table lacks. */
    private static void checkTokenizerVocab(Path tokFile, ModelConfig cfg) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(tokFile.toFile());
        } catch (IOException e) {
            throw new ModelLoadException("cannot parse " + tokFile + ": " + e.getMessage(), e);
        }
        long max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (var it = vocab.elements(); it.hasNext(); ) {
                max = Math.max(max, it.next().asLong());
            }
        } else if (vocab.isArray()) {
            max = vocab.size() - 1;
        }
        for (JsonNode a : root.path("added_tokens")) {
            max = Math.max(max, a.path("id").asLong());
        }
        if (max < 0) {
            throw new ModelLoadException(tokFile + ": no vocabulary found under 'model.vocab'");
        }
        if (max >= cfg.vocabSize()) {
            throw new ModelLoadException("tokenizer/vocab mismatch: " + tokFile + " has token id " + max
                    + " but config.json vocab_size is " + cfg.vocabSize());
        }
    }

    public Path directory() {
        return dir;
    }

    public ModelConfig config() {
        return config;
    }

    public RuntimeConfig runtime() {
        return runtime;
    }

    public CausalLm lm() {
        return lm;
    }

    /** Root manager (weights live in a sub-manager); decoding scopes its temporaries under it. */
    public NDManager manager() {
        return manager;
    }

    public HuggingFaceTokenizer tokenizer() {
        return tokenizer;
    }

    /** Token ids of {@code text}; special tokens (e.g. BOS) added as the tokenizer's post-processor says. */
    public long[] encode(String s, boolean addSpecialTokens) {
        return text.encode(s, addSpecialTokens);
    }

    public Encoding encoding(String s, boolean addSpecialTokens) {
        return text.encoding(s, addSpecialTokens);
    }

    public String decode(long[] ids) {
        return text.decode(ids);
    }

    /** The tokenizer alone (what label spaces and prompts use); owned by this model. */
    public TextTokenizer text() {
        return text;
    }

    /** NDArrays currently open under this model's managers (weights included): for leak checks. */
    public int openArrays() {
        return countArrays(manager);
    }

    private static int countArrays(NDManager m) {
        return m instanceof BaseNDManager b ? b.getManagedArrays().size() : -1;
    }

    @Override
    public void close() {
        tokenizer.close();
        manager.close();
    }
}
