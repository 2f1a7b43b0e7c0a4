package io.labelscope.schemas.serde;

/**
 * The schema registry could not be asked for a record's schema (connection refused, timeout, server error). This is
 * infrastructure, not a property of the record: the record must be read again later, never dead-lettered.
 */
public class SchemaRegistryUnavailableException extends RuntimeException {

    public SchemaRegistryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
