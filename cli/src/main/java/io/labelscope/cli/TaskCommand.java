package io.labelscope.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.labelscope.platform.TopicAdmin;
import io.labelscope.platform.TopicDefinition;
import io.labelscope.runtime.ModelLoadException;
import io.labelscope.runtime.TextTokenizer;
import io.labelscope.runtime.task.PromptRenderer;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import io.labelscope.schemas.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code labelscope task register|list|show|remove}: task definitions on the compacted {@code tasks} topic (key = task
 * name, value = the task as JSON in the format of {@code tasks/*.json}). Inference workers read the topic at start
 * and follow it, so a registered task is usable without restarting them.
 */
@Command(name = "task",
        mixinStandardHelpOptions = true,
        description = {"Register, list, show or remove task definitions (label set, prompt templates, demos, variants, "
                + "output format, model settings) on the compacted `tasks` topic that inference workers follow.",
                "",
                "File format: see tasks/goemotions.json; keys name, labels (required), instruction, demo_template, "
                        + "query_template, format (json_list|comma_list), k, seed, demos, variants, compat "
                        + "(paper|code), max_new_tokens, methods (generate|unary|binary, default generate), unary "
                        + "{instruction, template, options}, binary {instruction, template, options, pair_order}, "
                        + "breakdown_k, prompt_format (plain|chat), chat {demos (turns|inline), instruction "
                        + "(system|user)}, model (a checkpoint under the worker's models directory, "
                        + "LABELSCOPE_WORKER_MODELS_DIR, default <checkout>/models, or an absolute path; absent: the "
                        + "worker's default model, `up --model DIR`)."},
        subcommands = {TaskCommand.Register.class, TaskCommand.ListTasks.class, TaskCommand.Remove.class,
                TaskCommand.Show.class})
final class TaskCommand {

    private TaskCommand() {
    }

    @Command(name = "register", mixinStandardHelpOptions = true,
            description = "Validate each task file and publish it (canonical JSON, every default filled in). "
                    + "Registering a name again replaces that task; workers rebuild its prompt on the next document. "
                    + "Warns (on stderr) when no running worker can serve a task: its model is not found, the "
                    + "worker's default model serves other tasks only, or no worker answers on LABELSCOPE_WORKER_PORT.")
    static final class Register implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        KafkaOptions kafka;

        @Parameters(arity = "1..*", paramLabel = "FILE", description = "Task definition files (JSON).")
        List<Path> files;

        @Override
        public Integer call() throws Exception {
            register(files, kafka, spec.commandLine().getOut());
            // Checked after publishing: a task may be registered before its worker or model exists.
            Map<String, String> env = System.getenv();
            String workerUrl = ModelServing.workerUrl(env);
            var worker = ModelServing.worker(workerUrl);
            Path modelsDir = ModelServing.modelsDir(LocalServices.checkoutRoot(), env);
            PrintWriter err = spec.commandLine().getErr();
            for (Path f : files) {
                for (String w : ModelServing.warnings(TaskFiles.read(f), workerUrl, worker, modelsDir)) {
                    err.println("warning: " + w);
                }
            }
            err.flush();
            return 0;
        }
    }

    /** Validates each task file and publishes it on the tasks topic; used by {@code task register} and {@code up}. */
    static List<String> register(List<Path> files, KafkaOptions kafka, PrintWriter out) throws Exception {
        List<TaskDefinition> tasks = new ArrayList<>();
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new Labelscope.UserError(f + ": no such file", 2);
            }
            try {
                tasks.add(TaskFiles.read(f));
            } catch (IllegalArgumentException | IOException e) {
                throw new Labelscope.UserError(e.getMessage(), 1);
            }
        }
        kafka.requireBroker();
        ensureTopic(kafka);
        List<String> names = new ArrayList<>();
        try (KafkaProducer<String, String> producer = producer(kafka)) {
            for (TaskDefinition t : tasks) {
                RecordMetadata md = producer.send(new ProducerRecord<>(Topics.TASKS, t.name(),
                        TaskFiles.toJson(t))).get();
                out.printf("registered task '%s': %d labels, %d of %d demos, %s, max %d new tokens, version %s "
                        + "(%s-%d@%d)%n", t.name(), t.labels().size(), t.k(), t.demoPool().size(),
                        t.format().name().toLowerCase(java.util.Locale.ROOT), t.maxNewTokens(), TaskFiles.version(t),
                        md.topic(), md.partition(), md.offset());
                names.add(t.name());
            }
        }
        out.flush();
        return names;
    }

    /**
     * Registers the tasks of {@code files} whose name is not registered yet (what {@code up} and {@code demo} do
     * with the demo tasks); a registered task of the same name is left as it is. Returns the names it registered.
     */
    static List<String> registerMissing(List<Path> files, KafkaOptions kafka, PrintWriter out) throws Exception {
        ensureTopic(kafka);
        Map<String, String> registered = readAll(kafka);
        List<Path> missing = new ArrayList<>();
        for (Path f : files) {
            String name;
            try {
                name = TaskFiles.read(f).name();
            } catch (IllegalArgumentException | IOException e) {
                throw new Labelscope.UserError(e.getMessage(), 1);
            }
            if (registered.containsKey(name)) {
                out.printf("task '%s' is registered already: kept as it is (`labelscope task register %s` "
                        + "replaces it)%n", name, f);
            } else {
                missing.add(f);
            }
        }
        return missing.isEmpty() ? List.of() : register(missing, kafka, out);
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "Print the tasks currently registered (the latest value per name), one per line: name, "
                    + "labels, k, format, max_new_tokens, model ((default): the worker's default model) and version "
                    + "(the task_version its outputs carry).")
    static final class ListTasks implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        KafkaOptions kafka;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            kafka.requireBroker();
            Map<String, String> latest = readAll(kafka);
            if (latest.isEmpty()) {
                out.println("no tasks registered");
                return 0;
            }
            latest.forEach((name, json) -> {
                try {
                    TaskDefinition t = TaskFiles.parse(json);
                    out.printf("%s\t%s\tk=%d\t%s\tmax_new_tokens=%d\tmodel=%s\tversion=%s%n", name,
                            String.join(",", t.labels()), t.k(), t.format().name().toLowerCase(java.util.Locale.ROOT),
                            t.maxNewTokens(), t.namedModel().orElse("(default)"), TaskFiles.version(t));
                } catch (IllegalArgumentException e) {
                    out.printf("%s\tINVALID: %s%n", name, e.getMessage());
                }
            });
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = "Remove a task (a tombstone on the tasks topic); its documents then go to dead-letters as "
                    + "unknown_task.")
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        KafkaOptions kafka;

        @Parameters(arity = "1..*", paramLabel = "NAME")
        List<String> names;

        @Override
        public Integer call() throws Exception {
            kafka.requireBroker();
            try (KafkaProducer<String, String> producer = producer(kafka)) {
                for (String n : names) {
                    producer.send(new ProducerRecord<>(Topics.TASKS, n, null)).get();
                    spec.commandLine().getOut().printf("removed task '%s'%n", n);
                }
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = {"Print a registered task as JSON (every default filled in; its version on stderr); with "
                    + "--render, its version and the prompt the "
                    + "worker builds for a sample document (--document, else the task's first demo, else a "
                    + "placeholder text) and its length in the model's tokens.",
                    "The model is --model DIR, else LABELSCOPE_WORKER_MODEL_PATH; no weights are loaded."})
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        KafkaOptions kafka;

        @Parameters(paramLabel = "NAME")
        String name;

        @Option(names = "--render", description = "Render a sample prompt and count its tokens.")
        boolean render;

        @Option(names = "--model", paramLabel = "DIR",
                description = "Checkpoint whose tokenizer and chat template are used (with --render).")
        Path model;

        @Option(names = "--document", paramLabel = "TEXT", description = "Sample document to render.")
        String document;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            kafka.requireBroker();
            Map<String, String> tasks = readAll(kafka);
            String json = tasks.get(name);
            if (json == null) {
                throw new Labelscope.UserError("no task '" + name + "' is registered (registered: "
                        + (tasks.isEmpty() ? "none" : String.join(", ", tasks.keySet())) + ")", 1);
            }
            TaskDefinition task;
            try {
                task = TaskFiles.parse(json);
            } catch (IllegalArgumentException e) {
                throw new Labelscope.UserError("task '" + name + "' on the topic is invalid: " + e.getMessage(), 1);
            }
            if (!render) {
                // The version goes to stderr: stdout stays a task file that registers as it is.
                spec.commandLine().getErr().println("version: " + TaskFiles.version(task));
                spec.commandLine().getErr().flush();
                out.println(new ObjectMapper().readTree(json).toPrettyString());
                out.flush();
                return 0;
            }
            Path dir = model;
            if (dir == null && System.getenv("LABELSCOPE_WORKER_MODEL_PATH") != null) {
                dir = Path.of(System.getenv("LABELSCOPE_WORKER_MODEL_PATH"));
            }
            if (dir == null) {
                throw new Labelscope.UserError("--render needs a model: --model DIR (a checkpoint directory, e.g. "
                        + "models/demo/goemotions) or LABELSCOPE_WORKER_MODEL_PATH", 2);
            }
            if (!Files.isDirectory(dir)) {
                throw new Labelscope.UserError(dir + ": no such checkpoint directory", 2);
            }
            out.println("task:           " + task.name() + " (prompt_format "
                    + (task.promptFormat().isChat() ? "chat" : "plain") + ", " + task.labels().size() + " labels)");
            out.println("version:        " + TaskFiles.version(task));
            out.println("model:          " + dir);
            try (TextTokenizer tok = TextTokenizer.load(dir)) {
                ModelCommand.printSamplePrompt(PromptRenderer.forCheckpoint(task, dir), tok,
                        ModelCommand.sampleDocument(task, document), out);
            } catch (ModelLoadException | IllegalArgumentException e) {
                throw new Labelscope.UserError(e.getMessage(), 2);
            }
            out.flush();
            return 0;
        }
    }

    static void ensureTopic(KafkaOptions kafka) {
        try {
            TopicAdmin.ensure(kafka.bootstrapServers(), kafka.clientSettings(), null,
                    List.of(new TopicDefinition(Topics.TASKS, true, null, null)), 1);
        } catch (Exception e) {
            throw new Labelscope.UserError("cannot reach Kafka at " + kafka.bootstrapServers() + ": " + e.getMessage(), 1);
        }
    }

    static KafkaProducer<String, String> producer(KafkaOptions kafka) {
        Map<String, Object> c = new HashMap<>(kafka.clientSettings());
        c.put("acks", "all");
        c.put("delivery.timeout.ms", 30_000);
        c.put("request.timeout.ms", 10_000);
        return new KafkaProducer<>(c, new StringSerializer(), new StringSerializer());
    }

    /** The latest value of every task name on the topic (tombstones remove). */
    static Map<String, String> readAll(KafkaOptions kafka) {
        Map<String, Object> c = new HashMap<>(kafka.clientSettings());
        c.put("isolation.level", "read_committed");
        c.put("enable.auto.commit", false);
        Map<String, String> latest = new TreeMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                new StringDeserializer())) {
            List<PartitionInfo> infos = consumer.partitionsFor(Topics.TASKS, Duration.ofSeconds(15));
            if (infos == null || infos.isEmpty()) {
                return latest;
            }
            List<TopicPartition> parts = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, Duration.ofSeconds(15));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new Labelscope.UserError("timed out reading the tasks topic", 1);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() == null) {
                        continue;
                    }
                    if (r.value() == null) {
                        latest.remove(r.key());
                    } else {
                        latest.put(r.key(), r.value());
                    }
                }
            }
        } catch (org.apache.kafka.common.KafkaException e) {
            throw new Labelscope.UserError("cannot read the tasks topic at " + kafka.bootstrapServers() + ": "
                    + e.getMessage(), 1);
        }
        return latest;
    }
}
