package io.labelscope.aggregator;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;

/**
 * What the document assembler emits: a distribution (key = document id), a change to a task/model's metrics
 * (key = task/model, timestamp = generation time), or a rejected record (key = its original key).
 */
public sealed interface Assembled {

    record Distribution(DocumentDistribution distribution) implements Assembled {
    }

    record AlignmentChange(AlignmentTallies change) implements Assembled {
    }

    record SpikinessChange(SpikinessTallies change) implements Assembled {
    }

    record Rejected(DeadLetter deadLetter) implements Assembled {
    }
}
