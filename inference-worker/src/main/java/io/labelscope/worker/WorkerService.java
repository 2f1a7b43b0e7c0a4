package io.labelscope.worker;

import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;

/**
 * The worker's life: load the model, read the task registry, start the loop; on shutdown stop polling, let the
 * batch in progress commit (or abort), leave the group and free the model. Also answers the health checks.
 */
@ApplicationScoped
public class WorkerService {
    private static final Logger LOG = Logger.getLogger(WorkerService.class);

    @Inject
    WorkerConfig config;

    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafkaConfig;

    @ConfigProperty(name = "labelscope.registry.url", defaultValue = "http://127.0.0.1:8081")
    String registryUrl;

    @Inject
    MeterRegistry meters;

    private KafkaSettings kafka;
    private volatile Models models;
    private TaskRegistry tasks;
    private BatchProcessor processor;
    private WorkerLoop loop;
    private Thread thread;
    private Admin admin;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private volatile Check brokerCheck = new Check(false, "not checked yet", 0);
    private volatile Check registryCheck = new Check(false, "not checked yet", 0);

    /** A cached reachability result. */
    record Check(boolean up, String detail, long atMillis) {}

    void start(@Observes StartupEvent ev) throws Exception {
        resolveRecordClasses();
        kafka = new KafkaSettings(kafkaConfig, registryUrl);
        if (!kafka.ignoredOverrides().isEmpty()) {
            LOG.warnf("ignoring kafka.%s: exactly-once needs the worker's own values", kafka.ignoredOverrides());
        }
        String instance = config.instanceId().filter(s -> !s.isBlank()).orElseGet(WorkerService::hostName);
        RuntimeConfig rc = new RuntimeConfig(config.model().device(),
                RuntimeConfig.ComputeType.valueOf(config.model().dtype().toUpperCase(java.util.Locale.ROOT)),
                config.batchSize(), config.model().threads());
        models = Models.load(config.model().path(), rc, config.model().name(), config.model().maxContextTokens(),
                config.modelsDir(), config.maxLoadedModels());

        admin = Admin.create(kafka.common());
        ensureTasksTopic();
        tasks = new TaskRegistry(Topics.TASKS, new KafkaConsumer<>(kafka.taskConsumer(instance)));
        if (config.taskDir().isPresent()) {
            tasks.loadFiles(config.taskDir().get());
        }
        tasks.catchUp(Duration.ofSeconds(30));
        LOG.infof("tasks known at start: %s", tasks.entries().stream().map(TaskRegistry.Entry::name).toList());
        models.modelOfTask(tasks::modelOf);
        LOG.infof("serving: %s", models.describe());

        // Documents only: another record type on the topic is a wrong_record_type dead letter, not a cast failure.
        FailSafeAvroDeserializer<Document> documents = new FailSafeAvroDeserializer<>(Document.class);
        Map<String, Object> serde = new HashMap<>(AvroSerdeConfig.consumer(registryUrl));
        serde.putAll(KafkaSettings.serde(registryUrl));
        documents.configure(serde, false);
        processor = new BatchProcessor(models, config.maxNewTokens(), config.reusePrefix(), tasks,
                documents, config.faultInjectionFailText(), config.faultInjectionThrowText());
        if (!config.enabled()) {
            LOG.info("labelscope.worker.enabled=false: not consuming");
            return;
        }
        Map<String, Object> producerProps = kafka.transactionalProducer(instance);
        loop = new WorkerLoop(
                new KafkaConsumer<>(kafka.documentConsumer(config.groupId(), instance, config.batchSize())),
                () -> new KafkaProducer<byte[], SpecificRecord>(new HashMap<>(producerProps)),
                processor, tasks, new WorkerMetrics(meters), config.documentsTopic(), config.batchSize(),
                config.recordAttempts(), config.linger(), config.faultInjectionPauseBeforeCommit());
        thread = new Thread(loop, "labelscope-worker");
        thread.start();
        LOG.infof("worker '%s' consuming %s in group %s (transactional.id %s, batch %d, linger %s)", instance,
                config.documentsTopic(), config.groupId(), KafkaSettings.transactionalId(instance), config.batchSize(),
                config.linger());
    }

    /**
     * Avro's shared SpecificData caches each record class by name, resolved through the context class loader of the
     * first thread that asks. Resolve ours now, through the application's loader, so that no other thread (a Quarkus
     * test or dev-mode thread carrying the system class loader) can cache a copy from the wrong loader.
     */
    private static void resolveRecordClasses() {
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(WorkerService.class.getClassLoader());
        try {
            for (org.apache.avro.Schema s : List.of(Document.getClassSchema(), io.labelscope.schemas.LabelStep.getClassSchema(),
                    io.labelscope.schemas.Generation.getClassSchema(), io.labelscope.schemas.DeadLetter.getClassSchema())) {
                org.apache.avro.specific.SpecificData.get().getClass(s);
            }
        } finally {
            t.setContextClassLoader(previous);
        }
    }

    /** The tasks topic is compacted with one partition; created here if the platform did not. */
    private void ensureTasksTopic() {
        try {
            if (!admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(Topics.TASKS)) {
                admin.createTopics(List.of(new NewTopic(Topics.TASKS, Optional.of(1), Optional.empty())
                        .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
                        .all().get(30, TimeUnit.SECONDS);
                LOG.infof("created the %s topic", Topics.TASKS);
            }
        } catch (java.util.concurrent.ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                LOG.warnf("could not create the %s topic: %s", Topics.TASKS, e.getCause());
            }
        } catch (Exception e) {
            LOG.warnf("could not create the %s topic: %s", Topics.TASKS, e);
        }
    }

    void stop(@Observes ShutdownEvent ev) {
        if (loop != null) {
            boolean done = loop.stop(config.shutdownTimeout());
            LOG.infof(done ? "worker stopped" : "worker did not stop within %s; its open transaction will be aborted",
                    config.shutdownTimeout());
        }
        if (processor != null) {
            processor.close();
        }
        if (tasks != null) {
            tasks.close();
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(2));
        }
        if (models != null) {
            models.close();
            models = null;
        }
    }

    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "worker";
        }
    }

    // ---- health -------------------------------------------------------------------------------------------------

    public boolean modelLoaded() {
        return models != null;
    }

    public String modelName() {
        Models m = models;
        return m == null ? null : m.defaultModel();
    }

    /** The models this worker serves (null until loaded). */
    public Models models() {
        return models;
    }

    public WorkerLoop loop() {
        return loop;
    }

    public TaskRegistry tasks() {
        return tasks;
    }

    /** Broker reachable (cluster metadata answered), cached for 5 s. */
    public Check broker() {
        Check c = brokerCheck;
        if (System.currentTimeMillis() - c.atMillis() < 5000 || admin == null) {
            return c;
        }
        try {
            int nodes = admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).size();
            c = new Check(nodes > 0, nodes + " broker(s)", System.currentTimeMillis());
        } catch (Exception e) {
            c = new Check(false, "unreachable: " + e, System.currentTimeMillis());
        }
        brokerCheck = c;
        return c;
    }

    /** Schema registry reachable, cached for 5 s. */
    public Check registry() {
        Check c = registryCheck;
        if (System.currentTimeMillis() - c.atMillis() < 5000) {
            return c;
        }
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(
                    AvroSerdeConfig.registry(registryUrl).get("apicurio.registry.url") + "/system/info"))
                    .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.discarding());
            c = new Check(r.statusCode() == 200, registryUrl + " HTTP " + r.statusCode(), System.currentTimeMillis());
        } catch (Exception e) {
            c = new Check(false, registryUrl + " unreachable: " + e, System.currentTimeMillis());
        }
        registryCheck = c;
        return c;
    }
}
