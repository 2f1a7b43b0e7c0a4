package io.labelscope.platform;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The local platform behind {@code ./labelscope platform up|down|status}: a real KRaft Kafka broker and the
 * Apicurio Registry, each a background process whose pid, data and log live under {@code .labelscope/}.
 *
 * <p>Processes are found again by their pid files, and {@link #down()} stops exactly those pids, never "whatever
 * listens on 9092". Start-up is idempotent: a service whose recorded pid is alive is left alone.
 */
public final class LocalPlatform {

    public static final String KAFKA = "kafka";
    public static final String REGISTRY = "registry";

    private final PlatformSettings settings;

    public LocalPlatform(PlatformSettings settings) {
        this.settings = settings;
    }

    public PlatformSettings settings() {
        return settings;
    }

    /** What {@link #up} did: which services it started and which were already running. */
    public record UpReport(List<String> started, List<String> alreadyRunning, List<String> topicsCreated) {
    }

    /** One managed service's state, as read from its pid file. */
    public record ServiceStatus(String name, Optional<Long> pid, boolean alive, String endpoint, Path log) {
    }

    /**
     * Starts what is not running, waits until both services answer, creates the topics and registers their
     * schemas, and sets the registry's compatibility to BACKWARD.
     */
    public UpReport up(List<TopicDefinition> topics, java.util.function.Consumer<String> progress) throws Exception {
        Files.createDirectories(settings.home().resolve("logs"));
        List<String> started = new ArrayList<>();
        List<String> running = new ArrayList<>();

        if (alivePid(KAFKA).isPresent()) {
            running.add(KAFKA);
        } else {
            requireFreePort(settings.kafkaPort(), PlatformSettings.ENV_KAFKA_PORT);
            requireFreePort(settings.controllerPort(), PlatformSettings.ENV_CONTROLLER_PORT);
            progress.accept("starting Kafka (KRaft) on " + settings.bootstrapServers() + " …");
            startKafka();
            started.add(KAFKA);
        }
        if (alivePid(REGISTRY).isPresent()) {
            running.add(REGISTRY);
        } else {
            requireFreePort(settings.registryPort(), PlatformSettings.ENV_REGISTRY_PORT);
            progress.accept("starting Apicurio Registry on " + settings.registryUrl() + " …");
            startRegistry();
            started.add(REGISTRY);
        }

        awaitPort(KAFKA, settings.host(), settings.kafkaPort(), 90_000);
        RegistryClient registry = new RegistryClient(settings.registryUrl());
        ApicurioRegistry.awaitReady(registry, () -> alivePid(REGISTRY).isPresent(), log(REGISTRY), 120_000);
        registry.setGlobalCompatibility("BACKWARD");
        progress.accept("creating topics and registering schemas …");
        List<String> created = TopicAdmin.ensure(settings.bootstrapServers(), Map.of(), registry, topics,
                settings.partitions());
        return new UpReport(started, running, created);
    }

    /** Stops the processes recorded in the pid files (and only those); returns the names it stopped. */
    public List<String> down() throws IOException {
        List<String> stopped = new ArrayList<>();
        for (String name : List.of(REGISTRY, KAFKA)) {
            Optional<ProcessHandle> handle = alivePid(name).flatMap(ProcessHandle::of);
            if (handle.isPresent()) {
                stop(handle.get());
                stopped.add(name);
            }
            Files.deleteIfExists(pidFile(name));
        }
        return stopped;
    }

    public List<ServiceStatus> status() {
        return List.of(
                statusOf(KAFKA, settings.bootstrapServers()),
                statusOf(REGISTRY, settings.registryUrl() + RegistryClient.CONFLUENT_API));
    }

    private ServiceStatus statusOf(String name, String endpoint) {
        Optional<Long> pid = readPid(name);
        return new ServiceStatus(name, pid, pid.flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false),
                endpoint, log(name));
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
        if (!Files.exists(data.resolve("meta.properties"))) {
            Process format = new ProcessBuilder(javaCommand("-Xmx256m", "kafka.tools.StorageTool", "format",
                    "-t", UUID.randomUUID().toString().replace("-", "").substring(0, 22), "-c", config.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(log(KAFKA).toFile())
                    .start();
            if (format.waitFor() != 0) {
                throw new IllegalStateException("formatting Kafka storage failed; see " + log(KAFKA) + ":\n"
                        + ApicurioRegistry.tail(log(KAFKA)));
            }
        }
        Process kafka = new ProcessBuilder(javaCommand("-Xmx512m", "-Dkafka.logs.dir=" + dir.resolve("logs"),
                "kafka.Kafka", config.toString()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(KAFKA).toFile()))
                .start();
        writePid(KAFKA, kafka.pid());
    }

    private void startRegistry() throws IOException {
        Process registry = new ProcessBuilder(ApicurioRegistry.command(settings.host(), settings.registryPort()))
                .directory(settings.home().toFile())
                .redirectErrorStream(true)
                .redirectOutput(log(REGISTRY).toFile())
                .start();
        writePid(REGISTRY, registry.pid());
    }

    /** A JVM on the classpath of this one: the launcher puts the Kafka server jars on it. */
    private List<String> javaCommand(String heap, String... mainAndArgs) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add(heap);
        command.add("-XX:+UseSerialGC");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.addAll(List.of(mainAndArgs));
        return command;
    }

    private void awaitPort(String name, String host, int port, long timeoutMillis) {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (System.currentTimeMillis() < deadline) {
            if (alivePid(name).isEmpty()) {
                throw new IllegalStateException(name + " exited during start-up; log " + log(name) + ":\n"
                        + ApicurioRegistry.tail(log(name)));
            }
            if (portAnswers(host, port)) {
                return;
            }
            ApicurioRegistry.sleep(250);
        }
        throw new IllegalStateException(name + " did not open " + host + ":" + port + " within "
                + timeoutMillis / 1000 + " s; log " + log(name));
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

    private static void stop(ProcessHandle process) {
        process.destroy();
        try {
            process.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            process.destroyForcibly();
        }
    }

    private Path pidFile(String name) {
        return settings.home().resolve(name + ".pid");
    }

    public Path log(String name) {
        return settings.home().resolve("logs").resolve(name + ".log");
    }

    private void writePid(String name, long pid) throws IOException {
        Files.writeString(pidFile(name), Long.toString(pid));
    }

    private Optional<Long> readPid(String name) {
        try {
            return Optional.of(Long.parseLong(Files.readString(pidFile(name)).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The recorded pid, if that process is still alive and is a Java process (pids get reused). */
    private Optional<Long> alivePid(String name) {
        return readPid(name).filter(pid -> ProcessHandle.of(pid)
                .filter(ProcessHandle::isAlive)
                .map(h -> h.info().command().map(c -> c.endsWith("java")).orElse(true))
                .orElse(false));
    }
}
