package io.labelscope.schemas.serde;

/**
 * Thrown inside {@link StrictAvroKafkaDeserializer} when a value's bytes are readable but must not be accepted;
 * {@link FailSafeAvroDeserializer} turns it into a {@link Decoded.Undecodable} of {@link #type()}.
 */
final class RejectedValueException extends RuntimeException {

    private final String type;

    RejectedValueException(String type, String message) {
        // No stack trace: this is an expected outcome per bad record, and filling one in costs more than decoding.
        super(message, null, false, false);
        this.type = type;
    }

    String type() {
        return type;
    }
}
