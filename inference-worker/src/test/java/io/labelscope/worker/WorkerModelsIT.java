package io.labelscope.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

import io.labelscope.platform.testing.ServiceProcess;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.Topics;

/**
 * One worker process, one default model (the GoEmotions demo checkpoint) and the committed models directory: a task
 * that names {@code demo/mfrc} runs on the MFRC checkpoint, a task that names none on the default, both at once.
 */
class WorkerModelsIT {

    @Test
    void aTaskThatNamesItsModelAndATaskOnTheDefaultModelAreBothServed() throws Exception {
        TestPlatform platform = TestPlatform.get();
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String topic = "it-models-" + tag;
        TestSupport.ensureTopics(platform, topic, 2);
        TaskDefinition onDefault = TestSupport.task();
        // The committed MFRC task under its own name, naming the MFRC checkpoint by its path under models/.
        TaskDefinition mfrc = TaskFiles.read(Path.of("..", "tasks", "mfrc.json"));
        TaskDefinition named = TaskFiles.parse(TaskFiles.toJson(mfrc).replaceFirst("\"name\" : \"mfrc\"",
                "\"name\" : \"mfrc-named-" + tag + "\", \"model\" : \"demo/mfrc\""));
        assertThat(named.model()).isEqualTo("demo/mfrc");
        TestSupport.registerTask(platform, onDefault);
        TestSupport.registerTask(platform, named);

        Map<String, String> c = new HashMap<>();
        c.put("kafka.bootstrap.servers", platform.bootstrapServers());
        c.put("labelscope.registry.url", platform.registryUrl());
        c.put("labelscope.worker.model.path", TestSupport.model().toString());
        c.put("labelscope.worker.model.name", "default-demo");
        c.put("labelscope.worker.models-dir", Path.of("..", "models").toAbsolutePath().normalize().toString());
        c.put("labelscope.worker.model.threads", "1");
        c.put("labelscope.worker.instance-id", "it-models-" + tag);
        c.put("labelscope.worker.group-id", "it-models-" + tag);
        c.put("labelscope.worker.documents-topic", topic);
        c.put("labelscope.worker.batch-size", "4");
        String prefix = "models-" + tag + "-";
        try (ServiceProcess w = ServiceProcess.start("worker-models", TestSupport.workerJar(), c);
             var producer = TestSupport.avroProducer(platform)) {
            w.awaitLog("assigned partitions \\[" + topic, 1, Duration.ofSeconds(180));
            for (int i = 0; i < 6; i++) {
                String task = i % 2 == 0 ? onDefault.name() : named.name();
                String id = prefix + i;
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, id,
                        TestSupport.doc(id, task, TestSupport.text(i)))).get();
            }
            List<ConsumerRecord<String, Generation>> gens = TestSupport.readUntil(platform, Topics.GENERATIONS, prefix,
                    true, Duration.ofSeconds(180), l -> l.size() >= 6);
            // Three documents of each task, each task's all on its own model.
            Map<String, List<String>> modelsByTask = gens.stream().map(ConsumerRecord::value).collect(
                    Collectors.groupingBy(g -> g.getTask().toString(),
                            Collectors.mapping(g -> g.getModel().toString(), Collectors.toList())));
            assertThat(modelsByTask).containsOnlyKeys(onDefault.name(), named.name());
            assertThat(modelsByTask.get(onDefault.name())).containsExactly("default-demo", "default-demo",
                    "default-demo");
            assertThat(modelsByTask.get(named.name())).containsExactly("demo/mfrc", "demo/mfrc", "demo/mfrc");
            // The health data names what serves what (what `labelscope task register` reads).
            String ready = w.get("/q/health/ready");
            assertThat(ready).contains("\"default_model\"").contains("default-demo")
                    .contains(Path.of("..", "models").toAbsolutePath().normalize().toString());
            assertThat(w.log()).contains("model 'demo/mfrc' loaded from");
        }
    }
}
