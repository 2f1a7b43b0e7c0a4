package io.labelscope.schemas.serde;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The one place that says how labelscope puts Avro on the wire: Confluent's format (magic byte 0, a 4-byte
 * schema id, Avro binary) through a schema registry that speaks the Confluent API.
 *
 * <p>We use Apicurio's 2.x serdes because Confluent's are not in Maven Central. The settings below make them
 * write exactly what Confluent's write, so any Confluent client can read our topics through the registry's
 * {@code /apis/ccompat/v7} endpoint. Serializers are named by class in plain Kafka properties, so a user who
 * has Confluent's jars can swap them in without touching code.
 */
public final class AvroSerdeConfig {

    /** Path of the Confluent-compatible API on an Apicurio registry. */
    public static final String CONFLUENT_API_PATH = "/apis/ccompat/v7";
    /** Path of Apicurio's own API, which its serdes talk to. */
    public static final String APICURIO_API_PATH = "/apis/registry/v2";

    public static final String AVRO_SERIALIZER = "io.apicurio.registry.serde.avro.AvroKafkaSerializer";
    public static final String AVRO_DESERIALIZER = "io.apicurio.registry.serde.avro.AvroKafkaDeserializer";

    private AvroSerdeConfig() {
    }

    /**
     * Settings every serde needs, given the registry's base URL (e.g. {@code http://127.0.0.1:8081}).
     */
    public static Map<String, Object> registry(String registryBaseUrl) {
        Map<String, Object> config = new HashMap<>();
        config.put("apicurio.registry.url", stripSlash(registryBaseUrl) + APICURIO_API_PATH);
        // Schema id in the payload, not in headers: that is the Confluent format.
        config.put("apicurio.registry.headers.enabled", false);
        // 4 bytes of id (Apicurio's default is 8).
        config.put("apicurio.registry.id-handler", "io.apicurio.registry.serde.Legacy4ByteIdHandler");
        // The ccompat API numbers schemas by content id; the wire must carry the same number.
        config.put("apicurio.registry.use-id", "contentId");
        config.put("apicurio.registry.auto-register", true);
        config.put("apicurio.registry.find-latest", false);
        config.put("apicurio.registry.use-specific-avro-reader", true);
        // One Avro reader/writer per schema instead of one per record (see CachingAvroDatumProvider).
        config.put("apicurio.registry.avro-datum-provider", CachingAvroDatumProvider.class.getName());
        return config;
    }

    /** Producer properties: String keys (document ids), Avro values. */
    public static Map<String, Object> producer(String registryBaseUrl) {
        Map<String, Object> config = registry(registryBaseUrl);
        config.put("key.serializer", StringSerializer.class.getName());
        config.put("value.serializer", AVRO_SERIALIZER);
        return config;
    }

    /**
     * Consumer properties: String keys, Avro values read through {@link FailSafeAvroDeserializer}, so a record
     * that cannot be decoded becomes a {@link Decoded.Undecodable} value instead of an exception from poll().
     */
    public static Map<String, Object> consumer(String registryBaseUrl) {
        Map<String, Object> config = registry(registryBaseUrl);
        config.put("key.deserializer", StringDeserializer.class.getName());
        config.put("value.deserializer", FailSafeAvroDeserializer.class.getName());
        return config;
    }

    static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
