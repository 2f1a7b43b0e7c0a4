package io.labelscope.aggregator.ops;

import io.labelscope.aggregator.serde.UnreadableStateException;

import io.labelscope.schemas.serde.SchemaRegistryUnavailableException;
import jakarta.enterprise.context.ApplicationScoped;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.jboss.logging.Logger;

/**
 * What happens to a stream thread that throws (Quarkus installs this bean on the KafkaStreams it creates).
 *
 * <p>A schema registry that does not answer ({@link SchemaRegistryUnavailableException}, anywhere in the cause chain)
 * is transient: the thread is replaced, and the new one takes the tasks over from their last commit and processes
 * the records again. Under exactly-once (our default) the failed attempt's transaction is aborted, so nothing is
 * lost or doubled; while the registry stays down this repeats, each attempt waiting out the serializer's retry
 * budget. Anything else stops the client (Kafka Streams' own default, so the health check reports it): a bug or
 * a misconfiguration does not heal by retrying, and reprocessing it in a loop would hide it. State in a format
 * this version does not read ({@link UnreadableStateException}, written before an upgrade that needs a reset)
 * stops it too, logged as one message naming the upgrade procedure.
 */
@ApplicationScoped
public class StreamThreadRecovery implements StreamsUncaughtExceptionHandler {

    private static final Logger LOG = Logger.getLogger(StreamThreadRecovery.class);

    @Override
    public StreamThreadExceptionResponse handle(Throwable exception) {
        for (Throwable t = exception; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SchemaRegistryUnavailableException unavailable) {
                LOG.warnf("replacing the stream thread; its records are processed again from the last commit: %s",
                        unavailable.getMessage());
                return StreamThreadExceptionResponse.REPLACE_THREAD;
            }
            if (t instanceof UnreadableStateException unreadable) {
                // One line that says what to do; the stack trace of a store read says nothing more.
                LOG.errorf("stream thread stopped, shutting the Kafka Streams client down: %s",
                        unreadable.getMessage());
                return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
            }
        }
        LOG.error("stream thread failed; shutting the Kafka Streams client down", exception);
        return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    }
}
