package io.labelscope.cli;

import java.util.List;
import java.util.concurrent.Callable;

import io.labelscope.platform.RegistryClient;
import io.labelscope.platform.TopicAdmin;
import io.labelscope.platform.TopicDefinition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code labelscope topics ensure}: what {@code platform up} does to its own broker, for any cluster (a Kubernetes
 * job, the docker-compose init step, a shared cluster with TLS/SASL through --kafka-config).
 */
@Command(name = "topics",
        mixinStandardHelpOptions = true,
        description = "Create labelscope's topics and register their schemas on any Kafka cluster and registry.",
        subcommands = {TopicsCommand.Ensure.class})
final class TopicsCommand {

    @Command(name = "ensure", mixinStandardHelpOptions = true,
            description = "Create the missing topics, set the registry's compatibility to BACKWARD and register each "
                    + "topic's value schema. Harmless to run again.")
    static final class Ensure implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        KafkaOptions kafka;

        @Option(names = "--partitions", defaultValue = "3", description = "Partitions of each new topic (default 3).")
        int partitions;

        @Override
        public Integer call() throws Exception {
            kafka.requireBroker();
            kafka.requireRegistry();
            List<TopicDefinition> topics = PlatformCommand.publicTopics();
            RegistryClient registry = new RegistryClient(kafka.registryUrl());
            registry.setGlobalCompatibility("BACKWARD");
            List<String> created = TopicAdmin.ensure(kafka.bootstrapServers(), kafka.clientSettings(), registry,
                    topics, partitions);
            spec.commandLine().getOut().printf("topics: %s; schemas registered at %s%n",
                    created.isEmpty() ? "all present" : "created " + String.join(", ", created),
                    kafka.registryUrl() + RegistryClient.CONFLUENT_API);
            return 0;
        }
    }
}
