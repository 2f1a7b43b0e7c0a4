package io.labelscope.aggregator;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.CalibrationTallies;
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
     * emission; calibration when the document's (p, H) pairs did not change).
     */
    record MetricsChange(AlignmentTallies alignment, SpikinessTallies spikiness, CalibrationTallies calibration)
            implements Assembled {

        /** The sum of two changes; a part absent from both stays absent. */
        public MetricsChange plus(MetricsChange other) {
            return new MetricsChange(
                    alignment == null ? other.alignment : other.alignment == null ? alignment
                            : alignment.plus(other.alignment),
                    spikiness == null ? other.spikiness : other.spikiness == null ? spikiness
                            : spikiness.plus(other.spikiness),
                    calibration == null ? other.calibration : other.calibration == null ? calibration
                            : calibration.plus(other.calibration));
        }
    }

    /**
     * Metric changes of one task/model and time bucket not yet sent to the aggregates (state store
     * {@code metric-changes-pending}): their sum and the latest generation time among them.
     */
    record PendingChange(long time, MetricsChange change) {
    }

    record Rejected(DeadLetter deadLetter) implements Assembled {
    }
}
