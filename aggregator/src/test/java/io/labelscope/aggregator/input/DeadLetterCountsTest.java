package io.labelscope.aggregator.input;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.aggregator.avro.DeadLetterTallyRecord;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.serde.Decoded;
import org.junit.jupiter.api.Test;

import java.time.Instant;

/**
 * One error type's tally as dead letters arrive: every one counts, and the reason shown is the newest one's by
 * its {@code failed_at}, not the last read (the worker's and the aggregator's dead letters interleave on the
 * topic's partitions in any order).
 */
class DeadLetterCountsTest {

    @Test
    void everyDeadLetterCountsAndTheNewestReasonStaysWhenAnOlderOneArrivesLater() {
        DeadLetterTallyRecord t = counted("no model serves task 'sentiment'", 2_000).addTo(null);
        t = counted("an older failure", 1_000).addTo(t);
        assertThat(t.getCount()).isEqualTo(2);
        assertThat(t.getLatestReason()).isEqualTo("no model serves task 'sentiment'");
        assertThat(t.getLatestFailedAt()).isEqualTo(Instant.ofEpochMilli(2_000));

        t = counted("a newer failure", 3_000).addTo(t);
        assertThat(t.getCount()).isEqualTo(3);
        assertThat(t.getLatestReason()).isEqualTo("a newer failure");
    }

    @Test
    void aRecordThatIsNotADeadLetterIsCountedUnderItsDecodingError() {
        DeadLetterCounts.Counted c = DeadLetterCounts.Counted.of(
                Decoded.undecodable(new byte[] {1}, "value is not Confluent-format Avro"), Instant.ofEpochMilli(5));
        assertThat(c.errorType()).isEqualTo(Decoded.UNDECODABLE);
        assertThat(c.reason()).contains("not a dead letter", "value is not Confluent-format Avro");
        assertThat(c.sourceTopic()).isEqualTo("dead-letters");
        assertThat(c.failedAt()).isEqualTo(Instant.ofEpochMilli(5));
    }

    private static DeadLetterCounts.Counted counted(String reason, long failedAtMs) {
        DeadLetter d = DeadLetter.newBuilder().setSourceTopic("documents").setSourcePartition(0).setSourceOffset(7)
                .setReason(reason).setErrorType("model_failure").setRejectedBy("inference-worker")
                .setFailedAt(Instant.ofEpochMilli(failedAtMs)).build();
        return DeadLetterCounts.Counted.of(Decoded.of(d), Instant.EPOCH);
    }
}
