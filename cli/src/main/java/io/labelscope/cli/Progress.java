package io.labelscope.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import io.labelscope.platform.PlatformSettings;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.Decoded;

/**
 * A one-line progress bar on the error stream: on a terminal redrawn in place at most ten times a second; otherwise
 * (a log file, CI, a test) written once when done, since carriage returns there pile every redraw onto one line.
 */
final class Progress {

    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final String what;
    private final long total;
    private final boolean redraw;
    private final long started = System.nanoTime();
    private long lastDraw;

    Progress(PrintWriter err, String what, long total) {
        this.err = err;
        this.what = what;
        this.total = total;
        // No console: standard input or output is not a terminal, so neither is the error stream in practice.
        this.redraw = System.console() != null;
    }

    void update(long done) {
        long now = System.nanoTime();
        if (!redraw || (now - lastDraw < 100_000_000L && done < total)) {
            return;
        }
        lastDraw = now;
        err.print("\r" + bar(done, now));
        err.flush();
    }

    void finish(long done) {
        if (redraw) {
            lastDraw = 0;
            update(done);
            err.println();
        } else {
            err.println(bar(done, System.nanoTime()));
        }
        err.flush();
    }

    private String bar(long done, long now) {
        double seconds = Math.max(1e-9, (now - started) / 1e9);
        double share = total == 0 ? 1 : (double) done / total;
        int filled = (int) Math.round(share * WIDTH);
        return String.format("%s [%s%s] %d/%d %3.0f%%  %.1f/s", what, "#".repeat(filled), " ".repeat(WIDTH - filled),
                done, total, share * 100, done / seconds);
    }

    /**
     * Follows what happens to documents sent: how many have a committed generation and how many a distribution
     * aligned to annotators. Reads the output topics from their current end, without a consumer group.
     */
    static final class Watch implements AutoCloseable {
        private final Set<String> ids = new HashSet<>();
        private final Set<String> generated = ConcurrentHashMap.newKeySet();
        private final Set<String> aligned = ConcurrentHashMap.newKeySet();
        private final AtomicLong sent = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Watch(PlatformSettings settings, List<ProduceCommand.Converted.Accepted> documents) {
            documents.forEach(d -> ids.add(d.key()));
            Map<String, Object> config = new LinkedHashMap<>(AvroSerdeConfig.consumer(settings.registryUrl()));
            config.put("bootstrap.servers", settings.bootstrapServers());
            config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            config.put(ConsumerConfig.CLIENT_ID_CONFIG, "labelscope-demo-watch-" + UUID.randomUUID());
            KafkaConsumer<String, Decoded<Object>> consumer = new KafkaConsumer<>(config);
            List<TopicPartition> partitions = new java.util.ArrayList<>();
            for (String topic : List.of(Topics.GENERATIONS, Topics.DISTRIBUTIONS)) {
                consumer.partitionsFor(topic).forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
            thread = new Thread(() -> {
                try (consumer) {
                    while (running.get()) {
                        for (ConsumerRecord<String, Decoded<Object>> record : consumer.poll(Duration.ofMillis(300))) {
                            if (record.key() == null || !ids.contains(record.key())) {
                                continue;
                            }
                            if (record.topic().equals(Topics.GENERATIONS)) {
                                generated.add(record.key());
                            } else if (record.value() instanceof Decoded.Ok<Object> ok
                                    && ok.value() instanceof DocumentDistribution d && d.getAnnotators() > 0) {
                                aligned.add(record.key());
                            }
                        }
                    }
                }
            }, "labelscope-demo-watch");
            thread.setDaemon(true);
            thread.start();
        }

        void sent(long count) {
            sent.set(count);
        }

        void print(PrintWriter out, long total) {
            out.printf("\rsent %d/%d · generated %d · aligned with annotators %d   ", sent.get(), total,
                    generated.size(), aligned.size());
            out.flush();
        }

        @Override
        public void close() {
            running.set(false);
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
