package io.labelscope.worker;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Prometheus metrics (under /q/metrics). Counted only after a batch's transaction commits, so they agree with what
 * read_committed consumers see. Rates (documents/s, tokens/s) are {@code rate()} of the counters.
 */
public final class WorkerMetrics {
    private final MeterRegistry registry;
    private final Counter documents;
    private final Counter promptTokens;
    private final Counter generatedTokens;
    private final Counter labelSteps;
    private final Counter transactionsAborted;
    private final DistributionSummary batchSize;
    private final DistributionSummary stepsPerDocument;
    private final Timer decode;
    private final Timer batch;
    private final Timer endToEnd;
    private final AtomicLong lag = new AtomicLong();
    private final Map<String, Timer> methodTime = new java.util.HashMap<>();
    private final Counter unaryProbes;
    private final Counter binaryProbes;
    private final Counter probeTokens;

    public WorkerMetrics(MeterRegistry registry) {
        this.registry = registry;
        documents = Counter.builder("labelscope.worker.documents").description("documents decoded and committed")
                .register(registry);
        promptTokens = Counter.builder("labelscope.worker.tokens").tag("kind", "prompt")
                .description("tokens of committed documents").register(registry);
        generatedTokens = Counter.builder("labelscope.worker.tokens").tag("kind", "generated")
                .description("tokens of committed documents").register(registry);
        labelSteps = Counter.builder("labelscope.worker.label.steps").description("label-step records committed")
                .register(registry);
        transactionsAborted = Counter.builder("labelscope.worker.transactions.aborted")
                .description("batches whose transaction was aborted (they are decoded again)").register(registry);
        batchSize = DistributionSummary.builder("labelscope.worker.batch.size")
                .description("records per transaction (documents and rejects)").publishPercentileHistogram()
                .maximumExpectedValue(1024.0).register(registry);
        stepsPerDocument = DistributionSummary.builder("labelscope.worker.steps.per.document")
                .description("label generation steps per decoded document").publishPercentileHistogram()
                .maximumExpectedValue(64.0).register(registry);
        decode = Timer.builder("labelscope.worker.decode").description("model time per batch")
                .publishPercentileHistogram().register(registry);
        batch = Timer.builder("labelscope.worker.batch").description("poll-to-commit time per batch")
                .publishPercentileHistogram().register(registry);
        endToEnd = Timer.builder("labelscope.worker.end.to.end")
                .description("document submitted_at to commit of its outputs").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry);
        registry.gauge("labelscope.worker.consumer.lag", lag);
        for (String m : new String[] {"generate", "unary", "binary"}) {
            methodTime.put(m, Timer.builder("labelscope.worker.method").tag("method", m)
                    .description("model time per batch spent on one method (generate, unary, binary)")
                    .publishPercentileHistogram().register(registry));
        }
        unaryProbes = Counter.builder("labelscope.worker.probes").tag("method", "unary")
                .description("breakdown probes scored and committed").register(registry);
        binaryProbes = Counter.builder("labelscope.worker.probes").tag("method", "binary")
                .description("breakdown probes scored and committed").register(registry);
        probeTokens = Counter.builder("labelscope.worker.tokens").tag("kind", "probe")
                .description("tokens of committed documents").register(registry);
        // Reasons appear as they happen; register the known ones so dashboards show zeros.
        for (String t : new String[] {BatchProcessor.UNDECODABLE, BatchProcessor.UNKNOWN_TASK,
                BatchProcessor.EMPTY_TEXT, BatchProcessor.TOO_LONG, BatchProcessor.MODEL_FAILURE}) {
            deadLetterCounter(t);
        }
    }

    private Counter deadLetterCounter(String type) {
        return Counter.builder("labelscope.worker.dead.letters").tag("error_type", type)
                .description("input records sent to dead-letters, by reason").register(registry);
    }

    /** Records a committed batch. */
    public void committed(BatchProcessor.Result r, int records, long batchNanos, long commitMillis) {
        batchSize.record(records);
        decode.record(Duration.ofNanos(r.decodeNanos()));
        batch.record(Duration.ofNanos(batchNanos));
        r.methodNanos().forEach((m, nanos) -> {
            Timer t = methodTime.get(m);
            if (t != null) {
                t.record(Duration.ofNanos(nanos));
            }
        });
        for (BatchProcessor.DocumentOutcome d : r.processed()) {
            documents.increment();
            unaryProbes.increment(d.unaryProbes());
            binaryProbes.increment(d.binaryProbes());
            probeTokens.increment(d.probePromptTokens());
            promptTokens.increment(d.promptTokens());
            generatedTokens.increment(d.generatedTokens());
            labelSteps.increment(d.steps());
            stepsPerDocument.record(d.steps());
            endToEnd.record(Duration.ofMillis(Math.max(0, commitMillis - d.submittedAtMillis())));
        }
        for (Map.Entry<String, Integer> e : r.deadLetters().entrySet()) {
            deadLetterCounter(e.getKey()).increment(e.getValue());
        }
    }

    public void aborted() {
        transactionsAborted.increment();
    }

    public void lag(long value) {
        lag.set(value);
    }
}
