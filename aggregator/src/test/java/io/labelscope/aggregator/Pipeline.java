package io.labelscope.aggregator;

import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.SpikinessMetric;
import org.apache.avro.specific.SpecificRecord;

import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;

/**
 * The aggregator as the scenarios see it: records in, output records out. Two implementations run the same
 * scenarios: the topology in a TopologyTestDriver, and the Quarkus service on a real broker and registry (read
 * with read_committed). On the real broker the reads wait until the expected output has arrived.
 */
interface Pipeline {

    void send(String topic, String key, SpecificRecord value, Instant timestamp);

    void sendRaw(String topic, String key, byte[] value);

    /** The distributions of one document so far, oldest first; waits until there are at least {@code atLeast}. */
    List<DocumentDistribution> distributions(String documentId, int atLeast);

    /** Dead letters of one source key so far; waits until there are at least {@code atLeast}. */
    List<DeadLetter> deadLetters(String key, int atLeast);

    /** The latest all-time alignment record of task/model/method; waits (a while) until {@code until} holds. */
    default AlignmentMetric alignment(String model, String method, Predicate<AlignmentMetric> until) {
        return alignment(model, null, method, until);
    }

    /** The same of one configuration: the model and the task version (null: records without one). */
    AlignmentMetric alignment(String model, String taskVersion, String method, Predicate<AlignmentMetric> until);

    /** The latest all-time spikiness record of a cell; waits (a while) until {@code until} holds. */
    default SpikinessMetric spikiness(String model, String position, int stepIndex,
                                      Predicate<SpikinessMetric> until) {
        return spikiness(model, null, position, stepIndex, until);
    }

    /** The same of one configuration: the model and the task version (null: records without one). */
    SpikinessMetric spikiness(String model, String taskVersion, String position, int stepIndex,
                              Predicate<SpikinessMetric> until);
}
