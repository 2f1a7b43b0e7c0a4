package io.labelscope.aggregator;

import io.apicurio.registry.rest.client.exception.RestClientException;
import org.apache.kafka.common.errors.RetriableException;

import java.time.Duration;

/**
 * The schema registry did not answer while an output record needed its schema id: a transient failure (the
 * registry is down, restarting or overloaded), not a fault of the record. The stream thread that meets it is
 * replaced (see {@code ops.StreamThreadRecovery}) and the record processed again, under exactly-once, once the
 * registry is back.
 */
public final class RegistryUnavailableException extends RetriableException {

    private static final long serialVersionUID = 1L;

    RegistryUnavailableException(String topic, Duration waited, RuntimeException cause) {
        super("the schema registry did not answer within " + waited.toMillis() + " ms for the schema of the first "
                + "record written to " + topic + " since this instance started: " + cause.getMessage(), cause);
    }

    /**
     * Whether a failure of Apicurio's serializer means the registry was unreachable or failing (no HTTP answer,
     * 5xx, 429), rather than an answer that waiting will not change (4xx: an incompatible or invalid schema,
     * missing rights).
     */
    static boolean isTransient(RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RestClientException rest) {
                // Apicurio sets no error code when the request got no HTTP answer at all (connection refused,
                // reset, timed out).
                Integer code = rest.getError() == null ? null : rest.getError().getErrorCode();
                return code == null || code == 0 || code >= 500 || code == 429;
            }
            if (t instanceof java.io.IOException) {
                return true;
            }
        }
        return false;
    }
}
