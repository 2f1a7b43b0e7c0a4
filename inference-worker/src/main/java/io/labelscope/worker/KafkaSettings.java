package io.labelscope.worker;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import io.labelscope.schemas.serde.AvroSerdeConfig;

/**
 * Client properties of the worker: every {@code kafka.*} setting as given (bootstrap servers, TLS, SASL, timeouts…),
 * the registry settings of {@link AvroSerdeConfig}, and the few settings exactly-once depends on, which a user
 * cannot override.
 */
public final class KafkaSettings {

    /** Settings that carry the worker's guarantees; a {@code kafka.*} value for them is ignored (and logged). */
    static final Set<String> FORCED = Set.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, ProducerConfig.TRANSACTIONAL_ID_CONFIG,
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG);

    private final Map<String, Object> kafka;
    private final String registryUrl;

    /**
     * @param kafka       the {@code kafka.*} properties without the prefix
     * @param registryUrl base URL of the schema registry (e.g. http://127.0.0.1:8081)
     */
    public KafkaSettings(Map<String, Object> kafka, String registryUrl) {
        this.kafka = Map.copyOf(kafka);
        this.registryUrl = registryUrl;
    }

    public String registryUrl() {
        return registryUrl;
    }

    /** The registry settings of every serde, with the class-loader-safe datum provider. */
    public static Map<String, Object> serde(String registryUrl) {
        Map<String, Object> c = new HashMap<>(AvroSerdeConfig.registry(registryUrl));
        c.put("apicurio.registry.avro-datum-provider", LoaderSafeDatumProvider.class);
        return c;
    }

    /** Plain settings shared by every client (admin included). */
    public Map<String, Object> common() {
        Map<String, Object> c = new HashMap<>(kafka);
        c.keySet().removeAll(FORCED);
        c.putIfAbsent(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9092");
        return c;
    }

    /** Document consumer: raw bytes (decoded by the worker so the original bytes can go to dead-letters). */
    public Map<String, Object> documentConsumer(String groupId, String instanceId, int maxPollRecords) {
        Map<String, Object> c = serde(registryUrl);
        c.putAll(common());
        c.putIfAbsent(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        c.putIfAbsent(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, instanceId);
        c.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, "labelscope-worker-" + instanceId);
        c.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPollRecords);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return c;
    }

    /** Reader of the tasks topic: no group, assigned partitions, read from the start. */
    public Map<String, Object> taskConsumer(String instanceId) {
        Map<String, Object> c = common();
        c.remove(ConsumerConfig.GROUP_ID_CONFIG);
        c.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "labelscope-worker-tasks-" + instanceId);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return c;
    }

    /** Transactional producer: byte[] keys (document ids as UTF-8, or a rejected record's original key), Avro values. */
    public Map<String, Object> transactionalProducer(String instanceId) {
        Map<String, Object> c = serde(registryUrl);
        c.putAll(common());
        c.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "labelscope-worker-" + instanceId);
        c.putIfAbsent(ProducerConfig.ACKS_CONFIG, "all");
        c.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        c.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId(instanceId));
        c.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, AvroSerdeConfig.AVRO_SERIALIZER);
        return c;
    }

    public static String transactionalId(String instanceId) {
        return "labelscope-worker-" + instanceId;
    }

    /** User values for forced settings, to warn about. */
    public Set<String> ignoredOverrides() {
        Set<String> s = new java.util.TreeSet<>(kafka.keySet());
        s.retainAll(FORCED);
        return s;
    }
}
