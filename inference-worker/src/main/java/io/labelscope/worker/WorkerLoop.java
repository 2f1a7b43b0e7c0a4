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

import io.labelscope.schemas.serde.SchemaRegistryUnavailableException;

/**
 * The consume-decode-produce loop, on one thread: poll documents, gather a batch (batch size or linger, whichever
 * comes first), decode it, and produce its label steps, generations and dead letters in one Kafka transaction that
 * also commits the consumed offsets. A failed transaction is aborted and the batch is read again from the last
 * committed offsets (decoding is deterministic, so the retry produces the same records); a crash leaves an open
 * transaction that the broker aborts (at once when the same instance id starts again). Either way a read_committed
 * consumer sees each document's outputs exactly once.
 *
 * <p>Two kinds of failure, two policies. Infrastructure (the broker or the schema registry cannot be reached: see
 * {@link #isInfrastructure}) is nobody's record's fault: the batch is read again, with a backoff that doubles from
 * {@value #BACKOFF_MIN_MILLIS} ms to at most {@value #BACKOFF_MAX_MILLIS} ms, for as long as it takes, and nothing is
 * dead-lettered. Anything else that a batch throws is taken to be one record's fault: the batch is halved until the
 * record is alone, the record is tried alone up to {@code record-attempts} times in all, and then dead-lettered as
 * {@code processing_failed}; the records around it are processed as usual, and all of it commits in the batch's one
 * transaction. So a poison record costs about log2(batch size) + attempts extra passes over parts of its batch, and
 * can never stop its partition.
 */
public final class WorkerLoop implements Runnable {
    private static final Logger LOG = Logger.getLogger(WorkerLoop.class);
    static final long BACKOFF_MIN_MILLIS = 500;
    static final long BACKOFF_MAX_MILLIS = 30_000;

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Supplier<KafkaProducer<byte[], SpecificRecord>> producers;
    private final BatchProcessor processor;
    private final TaskRegistry tasks;
    private final WorkerMetrics metrics;
    private final String topic;
    private final int batchSize;
    private final int recordAttempts;
    /** Pause before the next retry after an infrastructure failure; reset by a committed batch. */
    private long backoffMillis = BACKOFF_MIN_MILLIS;
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
                      int recordAttempts, Duration linger, Optional<Duration> pauseBeforeCommit) {
        if (recordAttempts < 1) {
            throw new IllegalArgumentException("labelscope.worker.record-attempts must be at least 1, got "
                    + recordAttempts);
        }
        this.consumer = consumer;
        this.producers = producers;
        this.processor = processor;
        this.tasks = tasks;
        this.metrics = metrics;
        this.topic = topic;
        this.batchSize = batchSize;
        this.recordAttempts = recordAttempts;
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
            result = processIsolating(batch);
        } catch (RuntimeException e) {
            if (!isInfrastructure(e)) {
                throw e; // processIsolating lets nothing else out
            }
            LOG.warnf("batch of %d records could not be processed (%s); reading it again in %d ms", batch.size(),
                    e, backoffMillis);
            rewind(batch);
            backOff();
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
            backoffMillis = BACKOFF_MIN_MILLIS;
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
            backOff();
        }
    }

    /**
     * The batch's result, whatever a single record does: a failure that is not infrastructure is narrowed down by
     * halving the batch (the halves' results are joined in input order), and a record that fails alone
     * {@link #recordAttempts} times becomes a {@code processing_failed} dead letter. Infrastructure failures are
     * thrown, so that the whole batch is read again and nothing of it is dead-lettered.
     */
    BatchProcessor.Result processIsolating(List<ConsumerRecord<byte[], byte[]>> batch) {
        try {
            return processor.process(batch);
        } catch (RuntimeException e) {
            if (isInfrastructure(e)) {
                throw e;
            }
            if (batch.size() == 1) {
                return retryAlone(batch.get(0), e);
            }
            int half = batch.size() / 2;
            LOG.warnf("a batch of %d records failed (%s); processing its halves apart to find the record", batch.size(),
                    e);
            return processIsolating(batch.subList(0, half)).followedBy(processIsolating(batch.subList(half,
                    batch.size())));
        }
    }

    /** A record that failed alone once: the remaining attempts, then its dead letter. */
    private BatchProcessor.Result retryAlone(ConsumerRecord<byte[], byte[]> record, RuntimeException first) {
        RuntimeException last = first;
        for (int attempt = 2; attempt <= recordAttempts; attempt++) {
            LOG.warnf("record %s-%d@%d failed alone (%s); attempt %d of %d", record.topic(), record.partition(),
                    record.offset(), last, attempt, recordAttempts);
            try {
                return processor.process(List.of(record));
            } catch (RuntimeException e) {
                if (isInfrastructure(e)) {
                    throw e;
                }
                last = e;
            }
        }
        LOG.errorf(last, "record %s-%d@%d failed on all %d attempts; dead-lettering it as %s", record.topic(),
                record.partition(), record.offset(), recordAttempts, BatchProcessor.PROCESSING_FAILED);
        return processor.processingFailed(record, last, recordAttempts);
    }

    /**
     * Infrastructure: the schema registry or a Kafka client (the tasks topic's reader) could not do its work. Such a
     * failure says nothing about the records, so they are read again later, never dead-lettered.
     */
    static boolean isInfrastructure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SchemaRegistryUnavailableException || t instanceof KafkaException
                    || t instanceof InterruptedException) {
                return true;
            }
        }
        return false;
    }

    private void backOff() {
        pause(Duration.ofMillis(backoffMillis));
        backoffMillis = Math.min(BACKOFF_MAX_MILLIS, backoffMillis * 2);
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
