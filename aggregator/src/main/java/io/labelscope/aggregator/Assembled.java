package io.labelscope.aggregator;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;

/**
 * What the document assembler emits: a distribution (key = document id), a change to a task/model's metrics
 * (key = task/model, timestamp = the run's time), or a rejected record (key = its original key).
 */
public sealed interface Assembled {

    record Distribution(DocumentDistribution distribution) implements Assembled {
    }

    /**
     * A run's change to its task/model's metrics (key = task/model, timestamp = the run's time). Alignment and
     * spikiness travel together so that one repartition topic carries both; a part is null when it has nothing
     * to say (spikiness of an annotation change, alignment of a run without annotators after its first
     * emission).
     */
    record MetricsChange(AlignmentTallies alignment, SpikinessTallies spikiness) implements Assembled {
    }

    record Rejected(DeadLetter deadLetter) implements Assembled {
    }
}
