package io.labelscope.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

import io.labelscope.platform.LocalPlatform;
import io.labelscope.platform.PlatformSettings;
import io.labelscope.platform.TopicDefinition;
import io.labelscope.schemas.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code labelscope platform up|down|status}: a real Kafka broker and schema registry on this machine. */
@Command(name = "platform",
        mixinStandardHelpOptions = true,
        description = {"Start, stop or inspect the local platform: a real KRaft Kafka broker and the Apicurio "
                + "schema registry (schemas kept in an H2 file), as background processes under restart loops, with "
                + "data, rotated logs and pid files under .labelscope/.",
                "",
                "Environment: LABELSCOPE_HOME, LABELSCOPE_HOST (127.0.0.1), LABELSCOPE_KAFKA_PORT (9092), "
                        + "LABELSCOPE_KAFKA_CONTROLLER_PORT (9093), LABELSCOPE_REGISTRY_PORT (8081), "
                        + "LABELSCOPE_PARTITIONS (3), LABELSCOPE_LOG_MAX_FILE_SIZE (10M), LABELSCOPE_LOG_BACKUPS (3), "
                        + "LABELSCOPE_START_TIMEOUT_SECONDS (300)."},
        subcommands = {PlatformCommand.Up.class, PlatformCommand.Down.class, PlatformCommand.Status.class})
final class PlatformCommand {

    /**
     * Every topic the platform creates: the Avro topics with their value schemas, and the compacted {@code tasks}
     * topic (task definitions as JSON, no schema).
     */
    static List<TopicDefinition> publicTopics() {
        List<TopicDefinition> topics = new java.util.ArrayList<>(Topics.ALL.stream()
                .map(t -> new TopicDefinition(t.name(), t.compacted(), t.valueSubject(), t.valueSchema().toString()))
                .toList());
        topics.add(new TopicDefinition(Topics.TASKS, true, null, null));
        return topics;
    }

    static LocalPlatform platform() {
        try {
            return new LocalPlatform(PlatformSettings.fromEnvironment());
        } catch (IllegalArgumentException e) {
            throw new Labelscope.UserError(e.getMessage(), 2);
        }
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Start the broker and the registry (if not running), wait until both answer, create the "
                    + "topics and register their schemas. Running it again is harmless.")
    static final class Up implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            LocalPlatform platform = platform();
            LocalPlatform.UpReport report = platform.up(publicTopics(), line -> {
                out.println(line);
                out.flush();
            });
            PlatformSettings settings = platform.settings();
            out.println("platform is up:");
            out.printf("  kafka     %s  (%s)%n", settings.bootstrapServers(),
                    report.started().contains(LocalPlatform.KAFKA) ? "started" : "already running");
            out.printf("  registry  %s/apis/ccompat/v7  (%s)%n", settings.registryUrl(),
                    report.started().contains(LocalPlatform.REGISTRY) ? "started" : "already running");
            out.printf("  topics    %s%n", report.topicsCreated().isEmpty() ? "all present"
                    : "created " + String.join(", ", report.topicsCreated()));
            out.printf("  logs      %s%n", settings.home().resolve("logs"));
            out.println("stop it with: ./labelscope platform down");
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stop exactly the processes `platform up` started (by their recorded pids).")
    static final class Down implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            List<String> stopped = platform().down();
            spec.commandLine().getOut().println(stopped.isEmpty() ? "nothing was running"
                    : "stopped " + String.join(", ", stopped));
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Show the recorded processes and whether they are alive. Exit 0 when all are up, 3 when not.")
    static final class Status implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            boolean allUp = true;
            for (LocalPlatform.ServiceStatus service : platform().status()) {
                allUp &= service.alive();
                out.printf("%-9s %-8s pid %-8s %s%n", service.name(), service.alive() ? "running" : "stopped",
                        service.pid().map(String::valueOf).orElse("-"), service.endpoint());
            }
            return allUp ? 0 : 3;
        }
    }
}
