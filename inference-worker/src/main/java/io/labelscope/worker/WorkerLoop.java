package io.labelscope.worker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.jboss.logging.Logger;

/**
 * The consume-decode-produce loop, on one thread: poll documents, gather a batch (batch size or linger, whichever
 * comes first), decode it, and produce its label steps, generations and dead letters in one Kafka transaction that
 * also commits the consumed offsets. A failed transaction is aborted and the batch is read again from the last
 * committed offsets (decoding is deterministic, so the retry produces the same records); a crash leaves an open
 * transaction that the broker aborts (at once when the same instance id starts again). Either way a read_committed
 * consumer sees each document's outputs exactly once.
 */
public final class WorkerLoop implements Runnable {
    private static final Logger LOG = Logger.getLogger(WorkerLoop.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Supplier<KafkaProducer<byte[], SpecificRecord>> producers;
    private final BatchProcessor processor;
    private final TaskRegistry tasks;
    private final WorkerMetrics metrics;
    private final String topic;
    private final int batchSize;
    private final long lingerMillis;
    private final Optional<Duration> pauseBeforeCommit;
    private final List<ConsumerRecord<byte[], byte[]>> pending = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile boolean polling;
    private volatile Throwable fatal;
    private KafkaProducer<byte[], SpecificRecord> producer;

    public WorkerLoop(KafkaConsumer<byte[], byte[]> consumer, Supplier<KafkaProducer<byte[], SpecificRecord>> producers,
                      BatchProcessor processor, TaskRegistry tasks, WorkerMetrics metrics, String topic, int batchSize,
                      Duration linger, Optional<Duration> pauseBeforeCommit) {
        this.consumer = consumer;
        this.producers = producers;
        this.processor = processor;
        this.tasks = tasks;
        this.metrics = metrics;
        this.topic = topic;
        this.batchSize = batchSize;
        this.lingerMillis = linger.toMillis();
        this.pauseBeforeCommit = pauseBeforeCommit.filter(d -> !d.isZero());
    }

    /** Alive: the loop runs (or has not stopped because of an error). */
    public boolean healthy() {
        return fatal == null && stopped.getCount() > 0;
    }

    public boolean polling() {
        return polling;
    }

    public Throwable failure() {
        return fatal;
    }

    @Override
    public void run() {
        // Avro resolves SpecificRecord classes through the context class loader: make it ours (under Quarkus tests
        // and dev mode the thread may otherwise carry the system class loader).
        Thread.currentThread().setContextClassLoader(WorkerLoop.class.getClassLoader());
        try {
            producer = producers.get();
            producer.initTransactions();
            consumer.subscribe(List.of(topic), new Rebalance());
            polling = true;
            long firstAt = 0;
            while (running) {
                long now = System.currentTimeMillis();
                long wait = pending.isEmpty() ? 500 : Math.max(10, firstAt + lingerMillis - now);
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(wait));
                if (pending.isEmpty() && !records.isEmpty()) {
                    firstAt = System.currentTimeMillis();
                }
                records.forEach(pending::add);
                tasks.refresh();
                if (!pending.isEmpty() && due(firstAt)) {
                    List<ConsumerRecord<byte[], byte[]>> batch = new ArrayList<>(pending);
                    pending.clear();
                    processBatch(batch);
                }
                updateLag();
            }
        } catch (WakeupException e) {
            if (running) {
                fatal = e;
            }
        } catch (Throwable t) {
            fatal = t;
            LOG.error("the worker loop stopped: " + t, t);
        } finally {
            polling = false;
            closeQuietly();
            stopped.countDown();
        }
    }

    /**
     * A batch is due when it is full, or when its first record has waited the linger and no more records are known to
     * wait on the broker (after a long decode the consumer may hold only part of a backlog: keep fetching, up to
     * four lingers or half a second, so that a backlog is decoded in full batches).
     */
    private boolean due(long firstAt) {
        if (pending.size() >= batchSize) {
            return true;
        }
        long waited = System.currentTimeMillis() - firstAt;
        if (waited < lingerMillis) {
            return false;
        }
        return waited >= Math.max(4 * lingerMillis, 500) || knownLag() == 0;
    }

    /** Records on the broker beyond the consumer's position, as of the last fetch responses (no request). */
    private long knownLag() {
        long lag = 0;
        for (TopicPartition tp : consumer.assignment()) {
            lag += consumer.currentLag(tp).orElse(0);
        }
        return lag;
    }

    private void processBatch(List<ConsumerRecord<byte[], byte[]>> batch) {
        long t0 = System.nanoTime();
        BatchProcessor.Result result;
        try {
            result = processor.process(batch);
        } catch (RuntimeException e) {
            // Not a bad document (those become dead letters): something around the model is broken. Read the batch
            // again after a pause rather than skip it.
            LOG.error("batch processing failed; retrying it: " + e, e);
            rewind(batch);
            pause(Duration.ofSeconds(1));
            return;
        }
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            offsets.merge(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1),
                    (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        AtomicReference<Exception> sendError = new AtomicReference<>();
        try {
            producer.beginTransaction();
            for (ProducerRecord<byte[], SpecificRecord> r : result.records()) {
                producer.send(r, (md, e) -> {
                    if (e != null) {
                        sendError.compareAndSet(null, e);
                    }
                });
            }
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            if (pauseBeforeCommit.isPresent()) {
                producer.flush();
                LOG.infof("fault injection: %d records sent for %d inputs, pausing %s before commit",
                        result.records().size(), batch.size(), pauseBeforeCommit.get());
                pause(pauseBeforeCommit.get());
            }
            producer.commitTransaction();
            metrics.committed(result, batch.size(), System.nanoTime() - t0, System.currentTimeMillis());
            LOG.debugf("committed %d inputs -> %d records (%d documents, %d dead letters)", batch.size(),
                    result.records().size(), result.processed().size(),
                    result.deadLetters().values().stream().mapToInt(Integer::intValue).sum());
        } catch (ProducerFencedException | OutOfOrderSequenceException | UnsupportedVersionException
                 | AuthorizationException | FencedInstanceIdException e) {
            // Another instance owns this transactional id / instance id, or the broker refuses us: stop (liveness
            // goes DOWN); whatever was open is aborted by the broker.
            throw e;
        } catch (KafkaException | IllegalStateException e) {
            Exception cause = sendError.get() != null ? sendError.get() : e;
            LOG.warnf("transaction of %d inputs aborted (%s); they will be processed again", batch.size(), cause);
            metrics.aborted();
            try {
                producer.abortTransaction();
            } catch (KafkaException abortFailed) {
                LOG.warnf("abort failed (%s); starting a new producer", abortFailed.toString());
                producer.close(Duration.ofSeconds(5));
                producer = producers.get();
                producer.initTransactions();
            }
            rewind(batch);
            pause(Duration.ofMillis(500));
        }
    }

    /** Seeks each still-assigned partition of the batch back to the batch's first offset. */
    private void rewind(List<ConsumerRecord<byte[], byte[]>> batch) {
        Map<TopicPartition, Long> first = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : batch) {
            first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
        }
        Set<TopicPartition> assigned = consumer.assignment();
        first.forEach((tp, off) -> {
            if (assigned.contains(tp)) {
                consumer.seek(tp, off);
            }
        });
    }

    private void updateLag() {
        metrics.lag(knownLag() + pending.size());
    }

    private void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Stops polling; the batch in progress finishes (commits or aborts) first. */
    public boolean stop(Duration timeout) {
        running = false;
        consumer.wakeup();
        try {
            return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void closeQuietly() {
        try {
            // Leave the group even as a static member, so the partitions move to the other workers at once.
            consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(Duration.ofSeconds(5)));
        } catch (RuntimeException e) {
            LOG.debugf("closing the consumer: %s", e);
        }
        if (producer != null) {
            try {
                producer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debugf("closing the producer: %s", e);
            }
        }
    }

    /** Records of revoked partitions that wait for their batch are dropped: their new owner reads them again. */
    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            drop(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            drop(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            LOG.infof("assigned partitions %s", partitions);
        }

        private void drop(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            Set<TopicPartition> gone = new HashSet<>(partitions);
            int before = pending.size();
            pending.removeIf(r -> gone.contains(new TopicPartition(r.topic(), r.partition())));
            LOG.infof("revoked partitions %s (%d waiting records dropped, their next owner reads them)", partitions,
                    before - pending.size());
        }
    }
}
