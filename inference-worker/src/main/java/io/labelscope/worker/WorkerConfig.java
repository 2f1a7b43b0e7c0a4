package io.labelscope.worker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * The worker's settings ({@code labelscope.worker.*} in application.properties, or the environment:
 * {@code LABELSCOPE_WORKER_MODEL_PATH}, {@code LABELSCOPE_WORKER_BATCH_SIZE}, …). Kafka client settings are the
 * {@code kafka.*} properties, handed to the clients as they are (TLS/SASL included).
 */
@ConfigMapping(prefix = "labelscope.worker")
public interface WorkerConfig {

    /** The default model: serves every task whose definition names no model. */
    Model model();

    /**
     * Where a task's {@code "model": "<name>"} is looked up: {@code <models-dir>/<name>}, or the path itself when it is
     * absolute (io.labelscope.runtime.ModelDirs). A relative models-dir is relative to the working directory.
     */
    @WithDefault("models")
    Path modelsDir();

    /**
     * Memory policy for the models tasks name: at most this many are loaded at once; loading another unloads the
     * least recently used first. The default model is always loaded and not counted.
     */
    @WithDefault("2")
    int maxLoadedModels();

    /** Documents decoded together (also the consumer's max.poll.records unless kafka.max.poll.records is set). */
    @WithDefault("16")
    int batchSize();

    /** How long the first document of a batch may wait for more before the batch is decoded anyway. */
    @WithDefault("PT0.1S")
    Duration linger();

    /** Overrides every task's max_new_tokens when set. */
    OptionalInt maxNewTokens();

    /**
     * This worker's stable identity: transactional.id = {@code labelscope-worker-<id>}, group.instance.id = id.
     * Workers must have different ids; a restarted worker should keep its id (its unfinished transaction is then
     * aborted at once, and it takes its partitions back without waiting for the session timeout). Default: the host
     * name.
     */
    Optional<String> instanceId();

    /** Consumer group over the documents topic: all workers of one deployment share it. */
    @WithDefault("labelscope-inference-worker")
    String groupId();

    @WithDefault("documents")
    String documentsTopic();

    /** Directory of task files ({@code *.json}, the format of TaskFiles); the tasks topic wins on equal names. */
    Optional<Path> taskDir();

    /** Reuse the instruction+demos KV cache of each task across documents. */
    @WithDefault("true")
    boolean reusePrefix();

    /** How long shutdown waits for the batch in progress to commit. */
    @WithDefault("PT30S")
    Duration shutdownTimeout();

    /**
     * How many times a record whose processing throws (not a bad document, which is dead-lettered at once, nor an
     * infrastructure failure, which is retried without end) is tried alone before it is dead-lettered as
     * processing_failed. At least 1.
     */
    @WithDefault("3")
    int recordAttempts();

    /** Start the consume loop at start-up (false: model and HTTP only). */
    @WithDefault("true")
    boolean enabled();

    /**
     * Testing only: a document whose text contains this string fails in the model step as if the runtime had thrown
     * for it, so the model_failure path can be exercised end to end. Empty = off.
     */
    Optional<String> faultInjectionFailText();

    /**
     * Testing only: processing a document whose text contains this string throws outside the model step, as a bug
     * in the worker would, so the isolation of per-record failures can be exercised end to end. Empty = off.
     */
    Optional<String> faultInjectionThrowText();

    /** Testing only: pause this long after a batch's records are sent, before its commit (crash tests). */
    Optional<Duration> faultInjectionPauseBeforeCommit();

    interface Model {
        /**
         * Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer.json), or a directory of them named
         * after the tasks they serve (the demo layout).
         */
        @WithDefault("models/demo")
        Path path();

        /** Model name written into every output record and into the run id; default: the directory's name. */
        Optional<String> name();

        /** DJL device: cpu, gpu, gpu:N. */
        @WithDefault("cpu")
        String device();

        /** f32, f16 or bf16. */
        @WithDefault("f32")
        String dtype();

        /** libtorch intra-op threads; 0 = libtorch's default. */
        @WithDefault("0")
        int threads();

        /** Context window (prompt + new tokens); default: the checkpoint's max_position_embeddings. */
        OptionalInt maxContextTokens();
    }
}
