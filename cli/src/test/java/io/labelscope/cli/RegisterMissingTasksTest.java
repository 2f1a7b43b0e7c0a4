package io.labelscope.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;

/** What {@code up} and {@code demo} do with tasks/*.json: register a demo task only where none of its name is. */
@ExtendWith(RealKafka.class)
class RegisterMissingTasksTest {

    @Test
    void aTaskTheUserRegisteredUnderADemoTasksNameIsKeptAndAMissingOneIsRegistered(TestPlatform platform,
            @TempDir Path dir) throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String users = "kept-" + suffix;
        String missing = "missing-" + suffix;
        Path usersFile = task(dir.resolve("user"), users, "\"joy\", \"fear\", \"awe\"");
        TaskCommandTest.run(0, "task", "register", "--bootstrap-servers", platform.bootstrapServers(),
                usersFile.toString());

        // The demo files of the same name say something else.
        List<Path> demoFiles = List.of(task(dir.resolve("demo"), users, "\"joy\", \"fear\""),
                task(dir.resolve("demo"), missing, "\"joy\", \"fear\""));
        KafkaOptions kafka = new KafkaOptions();
        kafka.bootstrapServers = platform.bootstrapServers();
        StringWriter out = new StringWriter();
        assertThat(TaskCommand.registerMissing(demoFiles, kafka, new PrintWriter(out))).containsExactly(missing);
        assertThat(out.toString()).contains("task '" + users + "' is registered already: kept as it is");

        String list = TaskCommandTest.run(0, "task", "list", "--bootstrap-servers", platform.bootstrapServers())[0];
        assertThat(list).contains(users + "\tjoy,fear,awe\t").contains(missing + "\tjoy,fear\t");
        // Running `up` again registers nothing.
        assertThat(TaskCommand.registerMissing(demoFiles, kafka, new PrintWriter(new StringWriter()))).isEmpty();
    }

    private static Path task(Path dir, String name, String labels) throws Exception {
        Files.createDirectories(dir);
        return Files.writeString(dir.resolve(name + ".json"), "{\"name\": \"" + name + "\", \"labels\": [" + labels
                + "], \"demos\": [{\"text\": \"yay\", \"labels\": [\"joy\"]}], \"k\": 1, \"format\": \"comma_list\"}");
    }
}
