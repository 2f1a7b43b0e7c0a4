package io.labelscope.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import io.labelscope.platform.LocalPlatform;
import io.labelscope.platform.PlatformSettings;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code labelscope up | down | demo}: the whole system on this machine — the platform, one inference worker with
 * the committed demo model, the aggregator and its dashboard — and, for {@code demo}, real data streamed through it.
 */
final class DemoCommand {

    static final List<String> DEMO_TASKS = List.of("goemotions", "mfrc");

    private DemoCommand() {
    }

    /** What {@link #bringUp} started, so that Ctrl-C stops exactly that. */
    record Started(LocalPlatform platform, LocalServices services, boolean platformStarted, List<String> servicesStarted) {

        void stop(PrintWriter out) {
            try {
                List<String> stopped = new ArrayList<>(services.stop().stream()
                        .filter(servicesStarted::contains).toList());
                if (platformStarted) {
                    stopped.addAll(platform.down());
                }
                out.println("stopped " + (stopped.isEmpty() ? "nothing" : String.join(", ", stopped)));
            } catch (Exception e) {
                out.println("could not stop everything: " + e.getMessage() + " (try ./labelscope down)");
            }
            out.flush();
        }
    }

    /**
     * Platform up, demo tasks registered where no task of that name is, services started and ready. A task a user
     * registered under a demo task's name is kept as it is: re-registering it would replace their definition and
     * change its run ids.
     */
    static Started bringUp(PrintWriter out) throws Exception {
        return bringUp(out, LocalServices.WorkerModel.defaults());
    }

    /** {@link #bringUp(PrintWriter)} with the worker's default model chosen by {@code up --model/--device/--dtype}. */
    static Started bringUp(PrintWriter out, LocalServices.WorkerModel model) throws Exception {
        PlatformSettings settings = PlatformCommand.platform().settings();
        Path root = LocalServices.checkoutRoot();
        LocalServices services = new LocalServices(root, settings, model, System.getenv());
        // A wrong --model fails before anything is started.
        services.requireModel();
        LocalPlatform platform = new LocalPlatform(settings);
        LocalPlatform.UpReport report = platform.up(PlatformCommand.publicTopics(), line -> {
            out.println(line);
            out.flush();
        });
        List<Path> taskFiles;
        try (var files = Files.list(root.resolve("tasks"))) {
            taskFiles = files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
        // KafkaOptions' defaults are the local platform's addresses.
        TaskCommand.registerMissing(taskFiles, new KafkaOptions(), out);
        List<String> started = services.start(line -> {
            out.println(line);
            out.flush();
        });
        out.println("waiting for the services to be ready (the worker loads its model) …");
        out.flush();
        services.awaitReady();
        return new Started(platform, services, report.started().contains(LocalPlatform.KAFKA), started);
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Start what is not running: the platform, one inference worker and the aggregator (each "
                    + "under a restart loop); register the demo tasks (goemotions, mfrc) where no task of that name "
                    + "is registered; return once everything is ready, or fail naming the service that was not ready "
                    + "within LABELSCOPE_START_TIMEOUT_SECONDS (300) and its log. Stop with `labelscope down`. "
                    + "The worker's settings (LABELSCOPE_WORKER_*, e.g. LABELSCOPE_WORKER_BATCH_SIZE) are passed on "
                    + "from the environment.")
    static final class Up implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--model", paramLabel = "DIR", description = "The worker's default model: a Hugging Face "
                + "checkpoint directory (config.json, *.safetensors, tokenizer.json) serving every task that names no "
                + "model, or a directory of them named after their tasks. Default: LABELSCOPE_WORKER_MODEL_PATH, "
                + "else models/demo (the demo checkpoints, one per demo task).")
        Path model;

        @Option(names = "--device", paramLabel = "cpu|gpu", description = "Where the worker runs its models: cpu, gpu "
                + "or gpu:N. Default: LABELSCOPE_WORKER_MODEL_DEVICE, else cpu.")
        String device;

        @Option(names = "--dtype", paramLabel = "f32|f16|bf16", description = "Weight type of the worker's models. "
                + "Default: LABELSCOPE_WORKER_MODEL_DTYPE, else f32.")
        String dtype;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            Started started = bringUp(out, new LocalServices.WorkerModel(Optional.ofNullable(model),
                    Optional.ofNullable(device), Optional.ofNullable(dtype)));
            out.println("ready: dashboard " + started.services().dashboardUrl() + " · broker "
                    + started.platform().settings().bootstrapServers() + " · registry "
                    + started.platform().settings().registryUrl() + "/apis/ccompat/v7");
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stop the services and the platform that `up` or `demo` started (by recorded pid).")
    static final class Down implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PlatformSettings settings = PlatformCommand.platform().settings();
            List<String> stopped = new ArrayList<>(new LocalServices(LocalServices.checkoutRoot(), settings).stop());
            stopped.addAll(new LocalPlatform(settings).down());
            spec.commandLine().getOut().println(stopped.isEmpty() ? "nothing was running"
                    : "stopped " + String.join(", ", stopped));
            return 0;
        }
    }

    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = {"Start everything (as `up`) and stream real data through it: GoEmotions and MFRC documents "
                    + "with annotator events (see docs/demo.md for where they come from). Shows progress and the "
                    + "dashboard URL; Ctrl-C stops everything it started."})
    static final class Demo implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--limit", paramLabel = "N", description = "Stream N documents in all (default: every one).")
        Integer limit;

        @Option(names = "--rate", paramLabel = "PER_SECOND", defaultValue = "20",
                description = "Documents per second to send (default 20).")
        double rate;

        @Option(names = "--detach", description = "Return once the data is streamed; services stay up until "
                + "`labelscope down`.")
        boolean detach;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            if (limit != null && limit < 1) {
                throw new Labelscope.UserError("--limit must be at least 1", 2);
            }
            if (!(rate > 0)) {
                throw new Labelscope.UserError("--rate must be positive", 2);
            }
            Started started = bringUp(out);
            CountDownLatch stopped = new CountDownLatch(1);
            AtomicBoolean stopping = new AtomicBoolean();
            if (!detach) {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    stopping.set(true);
                    out.println();
                    started.stop(out);
                    stopped.countDown();
                }, "labelscope-demo-stop"));
            }
            String dashboard = started.services().dashboardUrl();
            out.println("dashboard: " + dashboard);
            out.flush();

            List<ProduceCommand.Converted.Accepted> documents = new ArrayList<>();
            List<ProduceCommand.Converted.Accepted> annotations = new ArrayList<>();
            demoData(LocalServices.checkoutRoot().resolve("demo/streams"), limit, documents, annotations);
            PlatformSettings settings = started.platform().settings();
            try (Progress.Watch watch = new Progress.Watch(settings, documents)) {
                send(settings, annotations, documents, watch, out);
                if (detach) {
                    out.printf("%nstreamed %d documents; services keep running: %s — stop them with "
                            + "./labelscope down%n", documents.size(), dashboard);
                    return 0;
                }
                out.printf("%nall %d documents sent; watching (Ctrl-C stops everything) — dashboard %s%n",
                        documents.size(), dashboard);
                out.flush();
                while (!stopping.get()) {
                    watch.print(out, documents.size());
                    Thread.sleep(1000);
                }
            }
            stopped.await();
            return 0;
        }

        private void send(PlatformSettings settings, List<ProduceCommand.Converted.Accepted> annotations,
                List<ProduceCommand.Converted.Accepted> documents, Progress.Watch watch, PrintWriter out)
                throws Exception {
            Map<String, Object> config = new LinkedHashMap<>(AvroSerdeConfig.producer(settings.registryUrl()));
            config.put("bootstrap.servers", settings.bootstrapServers());
            config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            try (KafkaProducer<String, SpecificRecord> producer = new KafkaProducer<>(config)) {
                // Annotations first: the human distributions are then in place when the first answers arrive.
                for (ProduceCommand.Converted.Accepted a : annotations) {
                    producer.send(new ProducerRecord<>(Topics.ANNOTATIONS, a.key(), a.value()));
                }
                long start = System.nanoTime();
                long lastPrint = 0;
                for (int i = 0; i < documents.size(); i++) {
                    long due = start + (long) (i / rate * 1e9);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000);
                    }
                    ProduceCommand.Converted.Accepted d = documents.get(i);
                    producer.send(new ProducerRecord<>(Topics.DOCUMENTS, d.key(), d.value()));
                    watch.sent(i + 1);
                    if (System.nanoTime() - lastPrint > 1e9) {
                        producer.flush();
                        watch.print(out, documents.size());
                        lastPrint = System.nanoTime();
                    }
                }
                producer.flush();
                watch.print(out, documents.size());
            }
        }
    }

    /**
     * The demo documents of both tasks, alternating so both appear from the start, and the annotations of the
     * documents chosen.
     */
    static void demoData(Path dir, Integer limit, List<ProduceCommand.Converted.Accepted> documents,
            List<ProduceCommand.Converted.Accepted> annotations) {
        List<List<ProduceCommand.Converted.Accepted>> perTask = new ArrayList<>();
        List<ProduceCommand.Converted.Accepted> allAnnotations = new ArrayList<>();
        for (String task : DEMO_TASKS) {
            ProduceCommand.Documents docs = new ProduceCommand.Documents();
            docs.task = task;
            Path file = dir.resolve(task + "-documents.jsonl");
            if (!Files.isRegularFile(file)) {
                throw new Labelscope.UserError("demo data " + file + " is missing", 1);
            }
            // Unchecked against the tasks topic: the demo data and the demo tasks are committed together, and the
            // demo registers those tasks itself.
            perTask.add(docs.convertAll(InputRows.read(file, InputRows.Format.JSONL), RegisteredTasks.unchecked())
                    .accepted());
            ProduceCommand.Annotations notes = new ProduceCommand.Annotations();
            notes.task = task;
            allAnnotations.addAll(notes.convertAll(InputRows.read(dir.resolve(task + "-annotations.jsonl"),
                    InputRows.Format.JSONL), RegisteredTasks.unchecked()).accepted());
        }
        int total = limit == null ? Integer.MAX_VALUE : limit;
        for (int i = 0; documents.size() < total; i++) {
            boolean any = false;
            for (List<ProduceCommand.Converted.Accepted> task : perTask) {
                if (i < task.size() && documents.size() < total) {
                    documents.add(task.get(i));
                    any = true;
                }
            }
            if (!any) {
                break;
            }
        }
        Set<String> chosen = new HashSet<>();
        documents.forEach(d -> chosen.add(d.key()));
        allAnnotations.stream().filter(a -> chosen.contains(a.key())).forEach(annotations::add);
    }
}
