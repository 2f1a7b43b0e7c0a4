package io.labelscope.schemas.serde;

import io.apicurio.registry.rest.client.exception.RestClientException;

/**
 * The schema registry could not be asked for a record's schema (connection refused, timeout, server error). This is
 * infrastructure, not a property of the record: the record must be read (or written) again later, never
 * dead-lettered. The worker retries with backoff; the aggregator replaces the stream thread that met it
 * ({@code ops.StreamThreadRecovery}), and exactly-once makes the retry neither lose nor double anything.
 */
public class SchemaRegistryUnavailableException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public SchemaRegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    /**
     * Whether a failure of Apicurio's serializer or deserializer means the registry was unreachable or failing
     * (no HTTP answer, 5xx, 429), rather than an answer that waiting will not change (4xx: an unknown schema id, an
     * incompatible or invalid schema, missing rights).
     */
    public static boolean isRegistryOutage(Throwable e) {
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
