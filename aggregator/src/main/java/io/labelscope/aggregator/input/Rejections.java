package io.labelscope.aggregator.input;

import io.labelscope.aggregator.avro.SourceRecord;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.serde.DeadLetters;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Every dead letter the aggregator writes for an input record it refuses is built here: the record's topic,
 * partition, offset, key and original bytes, why ({@link Reason}, the dead letter's {@code error_type}, or the
 * deserializer's own type for a record that does not decode) and a reason a person can act on.
 */
public final class Rejections {

    /** The dead letters' {@code rejected_by}. */
    public static final String REJECTED_BY = "aggregator";

    /** Why an input record was refused; {@link #errorType()} is what the dead letter's {@code error_type} says. */
    public enum Reason {
        /** A field without which the record means nothing (an annotation's ids), or a run paper-math refused. */
        INVALID,
        INVALID_LABEL_SET,
        INVALID_METHODS,
        INVALID_STEP,
        INVALID_LOGIT,
        INVALID_PAIR,
        UNKNOWN_LABEL,
        MISSING_LOGIT,
        MISSING_PROBE,
        MISSING_PAIR,
        DUPLICATE_PROBE,
        DUPLICATE_PAIR,
        /** The record's key is not its document id: it would land on the wrong partition. */
        KEY_MISMATCH,
        /** Another label set than the one the document's earlier records carried. */
        LABEL_SET_MISMATCH,
        /** An annotation of another task than the document's. */
        TASK_MISMATCH;

        public String errorType() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** A check's verdict on a record: why it is refused. */
    public record Rejection(Reason reason, String detail) {
    }

    private Rejections() {
    }

    public static DeadLetter of(SourceRecord source, Rejection rejection) {
        return of(source, rejection.reason(), rejection.detail());
    }

    public static DeadLetter of(SourceRecord source, Reason reason, String detail) {
        return deadLetter(source, reason.errorType(), detail);
    }

    /** A record that does not decode, with the deserializer's own error type ({@code undecodable}, ...). */
    public static DeadLetter undecodable(SourceRecord source, String errorType, String detail) {
        return deadLetter(source, errorType, detail);
    }

    private static DeadLetter deadLetter(SourceRecord source, String errorType, String detail) {
        return DeadLetters.of(source.getTopic(), source.getPartition(), source.getOffset(),
                source.getKey() == null ? null : source.getKey().getBytes(StandardCharsets.UTF_8),
                bytes(source.getValue()), errorType, detail, REJECTED_BY);
    }

    private static byte[] bytes(ByteBuffer value) {
        if (value == null) {
            return null;
        }
        ByteBuffer buffer = value.duplicate();
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }
}
