package io.labelscope.platform;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The local platform behind {@code ./labelscope platform up|down|status}: a real KRaft Kafka broker and the
 * Apicurio Registry, each a background process whose pid, data and log live under {@code .labelscope/}.
 *
 * <p>Each runs under the {@link Supervisor}'s restart loop, so a broker or registry that dies comes back by itself;
 * {@link #down()} stops exactly the recorded processes (pid and start time), never "whatever listens on 9092".
 * Start-up is idempotent: a service whose recorded loop is alive is left alone. The registry keeps its storage in
 * {@code registry/} (H2 file), so schema ids survive restarts; logs are rolled over by each service's own logging
 * ({@link PlatformSettings#logMaxFileSize()}, {@link PlatformSettings#logBackups()}).
 */
public final class LocalPlatform {

    public static final String KAFKA = "kafka";
    public static final String REGISTRY = "registry";

    /**
     * System property naming the jars (a class path) that make the broker log through log4j2 instead of the
     * command line's simple logger: {@code log4j-slf4j2-impl}. The launcher sets it; without it the broker logs to
     * {@code logs/kafka.out}, which is replaced at each start but not rolled over.
     */
    public static final String BROKER_LOGGING_CLASSPATH = "labelscope.broker.logging.classpath";

    private final PlatformSettings settings;
    private final Supervisor supervisor;

    public LocalPlatform(PlatformSettings settings) {
        this.settings = settings;
        this.supervisor = new Supervisor(settings.home());
    }

    public PlatformSettings settings() {
        return settings;
    }

    public Supervisor supervisor() {
        return supervisor;
    }

    /** What {@link #up} did: which services it started and which were already running. */
    public record UpReport(List<String> started, List<String> alreadyRunning, List<String> topicsCreated) {
    }

    /**
     * One managed service as found from its pid file: the service's own pid while it runs (empty between restarts),
     * whether it is alive, where it answers and where it logs.
     */
    public record ServiceStatus(String name, Optional<Long> pid, boolean alive, String endpoint, Path log) {
    }

    /**
     * Starts what is not running, waits until both services answer (each within the start timeout), creates the
     * topics and registers their schemas, and sets the registry's compatibility to BACKWARD.
     */
    public UpReport up(List<TopicDefinition> topics, java.util.function.Consumer<String> progress) throws Exception {
        Files.createDirectories(supervisor.logs());
        List<String> started = new ArrayList<>();
        List<String> running = new ArrayList<>();

        if (supervisor.find(KAFKA).isPresent()) {
            running.add(KAFKA);
        } else {
            requireFreePort(settings.kafkaPort(), PlatformSettings.ENV_KAFKA_PORT);
            requireFreePort(settings.controllerPort(), PlatformSettings.ENV_CONTROLLER_PORT);
            progress.accept("starting Kafka (KRaft) on " + settings.bootstrapServers() + " …");
            startKafka();
            started.add(KAFKA);
        }
        if (supervisor.find(REGISTRY).isPresent()) {
            running.add(REGISTRY);
        } else {
            requireFreePort(settings.registryPort(), PlatformSettings.ENV_REGISTRY_PORT);
            progress.accept("starting Apicurio Registry on " + settings.registryUrl() + " …");
            startRegistry();
            started.add(REGISTRY);
        }

        awaitKafka();
        RegistryClient registry = awaitRegistry();
        registry.setGlobalCompatibility("BACKWARD");
        progress.accept("creating topics and registering schemas …");
        List<String> created = TopicAdmin.ensure(settings.bootstrapServers(), Map.of(), registry, topics,
                settings.partitions());
        return new UpReport(started, running, created);
    }

    /** Waits (within the start timeout) until the broker's port answers. */
    public void awaitKafka() {
        awaitReady(KAFKA, () -> portAnswers(settings.host(), settings.kafkaPort()));
    }

    /** Waits (within the start timeout) until the registry answers; returns a client for it. */
    public RegistryClient awaitRegistry() {
        RegistryClient registry = new RegistryClient(settings.registryUrl());
        awaitReady(REGISTRY, registry::answers);
        return registry;
    }

    /**
     * Waits until {@code ready} holds, failing after the start timeout (or at once if the service's restart loop
     * is gone) with the service's name, its log file and the log's last lines. A service that exits meanwhile is
     * restarted by its loop, so its exit alone is no failure.
     */
    private void awaitReady(String name, java.util.function.BooleanSupplier ready) {
        long deadline = System.nanoTime() + settings.startTimeout().toNanos();
        while (!ready.getAsBoolean()) {
            if (supervisor.find(name).isEmpty()) {
                throw new IllegalStateException(name + " is not running (its restart loop is gone); log "
                        + log(name) + ":\n" + ApicurioRegistry.tail(log(name)));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " did not answer within " + settings.startTimeout().toSeconds()
                        + " s (" + PlatformSettings.ENV_START_TIMEOUT + "); log " + log(name) + ", console "
                        + supervisor.consoleLog(name) + ":\n" + ApicurioRegistry.tail(log(name)));
            }
            ApicurioRegistry.sleep(250);
        }
    }

    /** Stops the processes recorded in the pid files (and only those); returns the names it stopped. */
    public List<String> down() throws IOException {
        List<String> stopped = new ArrayList<>();
        for (String name : List.of(REGISTRY, KAFKA)) {
            if (supervisor.stop(name, Duration.ofSeconds(30))) {
                stopped.add(name);
            }
        }
        return stopped;
    }

    /**
     * Restarts one service (SIGTERM to it, SIGKILL after 30 s; its loop starts it again) and waits until it answers.
     *
     * @return false when the service is not running under labelscope (nothing was signalled)
     */
    public boolean restart(String name) {
        if (!supervisor.restart(name, Duration.ofSeconds(30))) {
            return false;
        }
        if (KAFKA.equals(name)) {
            awaitKafka();
        } else {
            awaitRegistry();
        }
        return true;
    }

    public List<ServiceStatus> status() {
        return List.of(
                statusOf(KAFKA, settings.bootstrapServers(), () -> portAnswers(settings.host(), settings.kafkaPort())),
                statusOf(REGISTRY, settings.registryUrl() + RegistryClient.CONFLUENT_API,
                        () -> new RegistryClient(settings.registryUrl()).answers()));
    }

    private ServiceStatus statusOf(String name, String endpoint, java.util.function.BooleanSupplier answers) {
        Optional<ProcessHandle> service = supervisor.find(name).flatMap(Supervisor.Running::service);
        return new ServiceStatus(name, service.map(ProcessHandle::pid),
                service.isPresent() && answers.getAsBoolean(), endpoint, log(name));
    }

    private void startKafka() throws Exception {
        Path dir = settings.home().resolve("kafka");
        Path data = dir.resolve("data");
        Path config = dir.resolve("server.properties");
        Files.createDirectories(dir);
        Files.writeString(config, String.join("\n",
                "process.roles=broker,controller",
                "node.id=1",
                "controller.quorum.voters=1@" + settings.host() + ":" + settings.controllerPort(),
                "listeners=PLAINTEXT://" + settings.host() + ":" + settings.kafkaPort()
                        + ",CONTROLLER://" + settings.host() + ":" + settings.controllerPort(),
                "advertised.listeners=PLAINTEXT://" + settings.host() + ":" + settings.kafkaPort(),
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "log.dirs=" + data,
                "num.partitions=" + settings.partitions(),
                // A single broker: every internal topic has one replica.
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                ""));
        Path logging = dir.resolve("log4j2.properties");
        Files.writeString(logging, brokerLogging(log(KAFKA)));
        if (!Files.exists(data.resolve("meta.properties"))) {
            Path formatLog = supervisor.logs().resolve("kafka-format.out");
            Process format = new ProcessBuilder(javaCommand("-Xmx256m", List.of("kafka.tools.StorageTool", "format",
                    "-t", UUID.randomUUID().toString().replace("-", "").substring(0, 22), "-c", config.toString())))
                    .redirectErrorStream(true)
                    .redirectOutput(formatLog.toFile())
                    .start();
            if (format.waitFor() != 0) {
                throw new IllegalStateException("formatting Kafka storage failed; see " + formatLog + ":\n"
                        + ApicurioRegistry.tail(formatLog));
            }
        }
        supervisor.start(KAFKA, javaCommand("-Xmx512m", List.of(
                "-Dkafka.logs.dir=" + dir.resolve("logs"),
                "-Dlog4j2.configurationFile=" + logging,
                "kafka.Kafka", config.toString())), settings.home(), Map.of());
    }

    /**
     * The broker's log4j2 configuration: everything to {@code logs/kafka.log}, rolled over at the configured size
     * with the configured number of old files ({@code kafka.log.1} the newest), the same scheme as the Quarkus
     * services' {@code quarkus.log.file.rotation.*}.
     */
    private String brokerLogging(Path log) {
        return String.join("\n",
                "status = warn",
                "appender.file.type = RollingFile",
                "appender.file.name = file",
                "appender.file.fileName = " + log.toAbsolutePath(),
                "appender.file.filePattern = " + log.toAbsolutePath() + ".%i",
                "appender.file.layout.type = PatternLayout",
                "appender.file.layout.pattern = [%d] %p %m (%c)%n",
                "appender.file.policies.type = Policies",
                "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
                "appender.file.policies.size.size = " + settings.logMaxFileSize(),
                "appender.file.strategy.type = DefaultRolloverStrategy",
                "appender.file.strategy.max = " + settings.logBackups(),
                "appender.file.strategy.fileIndex = min",
                "rootLogger.level = INFO",
                "rootLogger.appenderRef.file.ref = file",
                "");
    }

    private void startRegistry() throws IOException {
        Path data = settings.home().resolve("registry");
        Files.createDirectories(data);
        supervisor.start(REGISTRY, ApicurioRegistry.durableCommand(settings.host(), settings.registryPort(), data,
                log(REGISTRY), settings.logMaxFileSize(), settings.logBackups()), settings.home(), Map.of());
    }

    /**
     * A JVM on the class path of this one (the launcher puts the Kafka server jars on it) — with the broker's
     * logging jars instead of the simple logger when {@link #BROKER_LOGGING_CLASSPATH} names them.
     */
    private List<String> javaCommand(String heap, List<String> mainAndArgs) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add(heap);
        command.add("-XX:+UseSerialGC");
        command.add("-cp");
        command.add(brokerClassPath());
        command.addAll(mainAndArgs);
        return command;
    }

    private static String brokerClassPath() {
        String classPath = System.getProperty("java.class.path");
        List<String> logging = expand(System.getProperty(BROKER_LOGGING_CLASSPATH, ""));
        if (logging.isEmpty()) {
            // Not set, or not built yet: keep the simple logger rather than leave the broker without one.
            return classPath;
        }
        // Two SLF4J providers on one class path: SLF4J would pick one by class path order. Leave the simple one out.
        List<String> entries = new ArrayList<>(logging);
        entries.addAll(expand(classPath));
        entries.removeIf(e -> Path.of(e).getFileName().toString().startsWith("slf4j-simple"));
        return String.join(java.io.File.pathSeparator, entries);
    }

    /** The entries of a class path with each {@code dir/*} replaced by the jars in it (none if it is missing). */
    private static List<String> expand(String classPath) {
        List<String> entries = new ArrayList<>();
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            if (entry.isBlank()) {
                continue;
            }
            if (entry.endsWith("*")) {
                entries.addAll(jarsIn(Path.of(entry.substring(0, entry.length() - 1))));
            } else if (Files.exists(Path.of(entry))) {
                entries.add(entry);
            }
        }
        return entries;
    }

    private static List<String> jarsIn(Path dir) {
        try (var files = Files.list(dir)) {
            return files.map(Path::toString).filter(f -> f.endsWith(".jar") || f.endsWith(".JAR")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    static boolean portAnswers(String host, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void requireFreePort(int port, String variable) {
        if (portAnswers(settings.host(), port)) {
            throw new IllegalStateException("port " + settings.host() + ":" + port + " is already in use by a "
                    + "process labelscope did not start; stop it or choose another port with " + variable);
        }
    }

    public Path log(String name) {
        return supervisor.log(name);
    }
}
