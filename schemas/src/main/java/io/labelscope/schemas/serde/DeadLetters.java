package io.labelscope.schemas.serde;

import java.nio.ByteBuffer;
import java.time.Instant;

import io.labelscope.schemas.DeadLetter;

/** Builds dead-letter records the same way in every service. */
public final class DeadLetters {

    private DeadLetters() {
    }

    /**
     * @param errorType a short machine-readable category (undecodable, unknown_task, empty_text, unknown_label…)
     * @param reason    what is wrong with the record, for a person
     */
    public static DeadLetter of(String sourceTopic, int partition, long offset, byte[] key, byte[] value,
            String errorType, String reason, String rejectedBy) {
        return DeadLetter.newBuilder()
                .setSourceTopic(sourceTopic)
                .setSourcePartition(partition)
                .setSourceOffset(offset)
                .setKey(key == null ? null : ByteBuffer.wrap(key))
                .setValue(value == null ? null : ByteBuffer.wrap(value))
                .setErrorType(errorType)
                .setReason(reason)
                .setRejectedBy(rejectedBy)
                .setFailedAt(Instant.now())
                .build();
    }
}
