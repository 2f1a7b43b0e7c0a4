package io.labelscope.aggregator.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * A state store, changelog or repartition value that is not in this version's state format (Avro single-object
 * encoding, see {@link InternalAvroSerde}): written by a version before the Avro state (issue #14), whose binary
 * values start with their format byte. Not healed by retrying, so the stream thread's handler stops the client
 * with this one message ({@code ops.StreamThreadRecovery}); the message names the upgrade procedure.
 */
public final class UnreadableStateException extends SerializationException {

    public static final String UPGRADE = "this version reads only its Avro state; upgrade by resetting the application, "
            + "as aggregator/README.md 'State format and upgrades' says: stop every instance, run "
            + "kafka-streams-application-reset --application-id <id> --input-topics "
            + "label-steps,generations,unary-probes,binary-probes,annotations, start with a fresh state.dir "
            + "and let this version reprocess the inputs";

    public UnreadableStateException(String message) {
        super(message);
    }
}
