package io.labelscope.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.jboss.logging.Logger;

import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.task.TaskFiles;

/**
 * The task definitions a worker knows: JSON files in a directory (read once at start) and the compacted
 * {@code tasks} topic (key = task name, value = the same JSON; a tombstone removes the task), read fully at start
 * and followed afterwards. A name on the topic shadows a file of the same name. Not thread-safe: the worker's loop
 * thread owns it ({@link #entries()} may be read from any thread).
 */
public final class TaskRegistry implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(TaskRegistry.class);

    /** A task as registered: its definition, or why the registered value is unusable. */
    public record Entry(String name, TaskDefinition task, String error, String source) {
        boolean valid() {
            return task != null;
        }
    }

    private final Map<String, Entry> files = new ConcurrentHashMap<>();
    private final Map<String, Entry> topic = new ConcurrentHashMap<>();
    private final String topicName;
    private final KafkaConsumer<String, String> consumer;
    private List<TopicPartition> partitions = List.of();

    /** @param consumer reader of the tasks topic, or null to use files only */
    public TaskRegistry(String topicName, KafkaConsumer<String, String> consumer) {
        this.topicName = topicName;
        this.consumer = consumer;
    }

    /** Loads every {@code *.json} file of {@code dir}; an unusable file is logged and kept as an error entry. */
    public void loadFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("task directory " + dir + " does not exist");
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                try {
                    TaskDefinition t = TaskFiles.read(f);
                    files.put(t.name(), new Entry(t.name(), t, null, f.toString()));
                    LOG.infof("task '%s' from %s", t.name(), f);
                } catch (IOException | RuntimeException e) {
                    String name = f.getFileName().toString().replaceFirst("\\.json$", "");
                    files.putIfAbsent(name, new Entry(name, null, e.getMessage(), f.toString()));
                    LOG.warnf("unusable task file %s: %s", f, e.getMessage());
                }
            }
        }
    }

    /** Reads the tasks topic up to its current end (the topic may not exist yet: then there is nothing to read). */
    public void catchUp(Duration timeout) {
        if (consumer == null) {
            return;
        }
        if (partitions.isEmpty()) {
            List<PartitionInfo> infos = consumer.partitionsFor(topicName, timeout);
            if (infos == null || infos.isEmpty()) {
                return;
            }
            partitions = infos.stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!reached(end) && System.nanoTime() < deadline) {
            apply(consumer.poll(Duration.ofMillis(100)));
        }
    }

    private boolean reached(Map<TopicPartition, Long> end) {
        for (TopicPartition tp : partitions) {
            if (consumer.position(tp) < end.getOrDefault(tp, 0L)) {
                return false;
            }
        }
        return true;
    }

    /** Applies whatever new registrations have arrived, without waiting. */
    public void refresh() {
        if (consumer == null) {
            return;
        }
        if (partitions.isEmpty()) {
            catchUp(Duration.ofMillis(200));
            return;
        }
        apply(consumer.poll(Duration.ZERO));
    }

    private void apply(Iterable<ConsumerRecord<String, String>> records) {
        for (ConsumerRecord<String, String> r : records) {
            String name = r.key();
            if (name == null) {
                LOG.warnf("tasks record at %s-%d@%d has no key (the task name); ignored", r.topic(), r.partition(),
                        r.offset());
                continue;
            }
            String where = r.topic() + "-" + r.partition() + "@" + r.offset();
            if (r.value() == null) {
                topic.remove(name);
                LOG.infof("task '%s' removed (%s)", name, where);
                continue;
            }
            try {
                TaskDefinition t = TaskFiles.parse(r.value());
                if (!t.name().equals(name)) {
                    throw new IllegalArgumentException("key '" + name + "' differs from the definition's name '"
                            + t.name() + "'");
                }
                Entry prev = topic.put(name, new Entry(name, t, null, where));
                if (prev == null || !t.equals(prev.task())) {
                    LOG.infof("task '%s' registered (%s)", name, where);
                }
            } catch (RuntimeException e) {
                topic.put(name, new Entry(name, null, e.getMessage(), where));
                LOG.warnf("task '%s' at %s is not a usable definition: %s", name, where, e.getMessage());
            }
        }
    }

    /** The entry for a task name: the topic's, else the file's. */
    public Optional<Entry> lookup(String name) {
        Entry e = topic.get(name);
        return Optional.ofNullable(e != null ? e : files.get(name));
    }

    /** The model a task names in its definition (empty: unknown or unusable task, or the worker's default). */
    public Optional<String> modelOf(String name) {
        return lookup(name).filter(Entry::valid).flatMap(e -> e.task().namedModel());
    }

    /** Every known task by name. */
    public Collection<Entry> entries() {
        Map<String, Entry> all = new TreeMap<>(files);
        all.putAll(topic);
        return new ArrayList<>(all.values());
    }

    @Override
    public void close() {
        if (consumer != null) {
            consumer.close(Duration.ofSeconds(2));
        }
    }
}
