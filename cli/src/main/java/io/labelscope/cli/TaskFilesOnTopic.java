package io.labelscope.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.labelscope.schemas.Topics;

/** Registers task definition files on the compacted {@code tasks} topic (key = the task's name). */
final class TaskFilesOnTopic {

    private TaskFilesOnTopic() {
    }

    /** @return the names of the tasks registered */
    static List<String> register(List<Path> files, Map<String, Object> clientSettings) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Map<String, String> tasks = new LinkedHashMap<>();
        for (Path file : files) {
            String text = Files.readString(file);
            JsonNode node;
            try {
                node = json.readTree(text);
            } catch (IOException e) {
                throw new Labelscope.UserError(file + " is not valid JSON: " + e.getMessage(), 1);
            }
            String name = node.path("name").asText("");
            if (name.isBlank()) {
                throw new Labelscope.UserError(file + " has no \"name\"", 1);
            }
            tasks.put(name, text);
        }
        Map<String, Object> config = new LinkedHashMap<>(clientSettings);
        config.put("key.serializer", StringSerializer.class.getName());
        config.put("value.serializer", StringSerializer.class.getName());
        config.put("acks", "all");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config)) {
            for (Map.Entry<String, String> task : tasks.entrySet()) {
                producer.send(new ProducerRecord<>(Topics.TASKS, task.getKey(), task.getValue())).get();
            }
        } catch (Exception e) {
            throw new Labelscope.UserError("registering tasks failed: " + e.getMessage(), 1);
        }
        return new ArrayList<>(tasks.keySet());
    }

    static List<Path> jsonFilesIn(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }
}
