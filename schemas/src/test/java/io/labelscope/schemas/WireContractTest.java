package io.labelscope.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.labelscope.platform.RegistryClient;
import io.labelscope.platform.TopicDefinition;
import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.Decoded;

/** The public contract, checked on a real broker and a real schema registry. */
@ExtendWith(RealKafka.class)
class WireContractTest {

    private static TestPlatform platform;

    @BeforeAll
    static void createTopics(TestPlatform shared) {
        platform = shared;
        List<TopicDefinition> definitions = Topics.ALL.stream()
                .map(t -> new TopicDefinition(t.name(), t.compacted(), t.valueSubject(), t.valueSchema().toString()))
                .toList();
        platform.ensureTopics(definitions, 1);
    }

    @Test
    void everyRecordTypeRoundTripsThroughBrokerAndRegistry() {
        Map<String, SpecificRecord> sent = SampleRecords.oneOfEach();
        assertThat(sent.keySet()).containsExactlyInAnyOrderElementsOf(Topics.ALL.stream().map(Topics.TopicSpec::name)
                .toList());
        String key = UUID.randomUUID().toString();
        try (KafkaProducer<String, Object> producer = new KafkaProducer<>(producerConfig())) {
            sent.forEach((topic, record) -> producer.send(new ProducerRecord<>(topic, key, record)));
            producer.flush();
        }
        for (Map.Entry<String, SpecificRecord> entry : sent.entrySet()) {
            List<ConsumerRecord<String, Decoded<Object>>> received = readAll(entry.getKey(), key,
                    consumerConfig());
            assertThat(received).as(entry.getKey()).hasSize(1);
            assertThat(received.get(0).value()).as(entry.getKey()).isInstanceOf(Decoded.Ok.class);
            Object value = ((Decoded.Ok<Object>) received.get(0).value()).value();
            assertThat(value).as(entry.getKey()).isInstanceOf(entry.getValue().getClass()).isEqualTo(entry.getValue());
        }
    }

    @Test
    void bytesOnTheWireAreConfluentFormatAndTheIdResolvesThroughTheConfluentApi() throws Exception {
        String key = UUID.randomUUID().toString();
        Document document = (Document) SampleRecords.oneOfEach().get(Topics.DOCUMENTS);
        document.setId(key);
        try (KafkaProducer<String, Object> producer = new KafkaProducer<>(producerConfig())) {
            producer.send(new ProducerRecord<>(Topics.DOCUMENTS, key, document)).get();
        }
        Map<String, Object> raw = new HashMap<>(consumerConfig());
        raw.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<String, byte[]>> records = readAll(Topics.DOCUMENTS, key, raw);
        assertThat(records).hasSize(1);
        byte[] bytes = records.get(0).value();

        assertThat(bytes[0]).as("magic byte").isEqualTo((byte) 0);
        int schemaId = ByteBuffer.wrap(bytes, 1, 4).getInt();
        String schemaJson = platform.registry().schemaById(schemaId);
        Schema writerSchema = new Schema.Parser().parse(schemaJson);
        assertThat(writerSchema.getFullName()).isEqualTo("io.labelscope.schemas.Document");
        assertThat(writerSchema.getFields()).extracting(Schema.Field::name)
                .containsExactly("id", "task", "text", "metadata", "submitted_at");

        // What any Confluent client does: the rest of the bytes is plain Avro binary under that schema.
        GenericRecord decoded = new GenericDatumReader<GenericRecord>(writerSchema)
                .read(null, DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));
        assertThat(decoded.get("id").toString()).isEqualTo(key);
        assertThat(decoded.get("text").toString()).isEqualTo(document.getText());
        assertThat(decoded.get("submitted_at")).isEqualTo(document.getSubmittedAt().toEpochMilli());
    }

    @Test
    void publicTopicsHaveTheirValueSubjectsRegisteredWithBackwardCompatibility() throws Exception {
        RegistryClient registry = platform.registry();
        assertThat(registry.globalCompatibility()).isEqualTo("BACKWARD");
        for (Topics.TopicSpec topic : Topics.ALL) {
            // Registering the same schema again returns the subject's existing id: the subject exists.
            int id = registry.register(topic.valueSubject(), topic.valueSchema().toString());
            assertThat(new Schema.Parser().parse(registry.schemaById(id))).isEqualTo(topic.valueSchema());
        }
    }

    @Test
    void changedRecordsStayBackwardCompatibleWithTheirReleasedVersions() throws Exception {
        // The registry (BACKWARD) must accept today's schema after the released one: consumers built on
        // today's classes read everything written before, and the new fields have defaults.
        RegistryClient registry = platform.registry();
        String subject = "released-generations-" + UUID.randomUUID() + "-value";
        String released;
        try (var in = WireContractTest.class.getResourceAsStream("/released/Generation.avsc")) {
            released = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        registry.register(subject, released);
        registry.register(subject, Generation.getClassSchema().toString());

        // An old producer's record, read with today's class, gets the default method set.
        Schema old = new Schema.Parser().parse(released);
        GenericRecord oldRecord = new org.apache.avro.generic.GenericRecordBuilder(old)
                .set("document_id", "d1").set("task", "t").set("model", "m").set("run_id", "r")
                .set("raw_output", "[]").set("parsed_labels", List.of()).set("steps_total", 0)
                .set("prompt_tokens", 1).set("output_tokens", 1).set("latency_ms", 1L).set("stop_reason", "eos")
                .set("produced_at", 0L).build();
        var out = new java.io.ByteArrayOutputStream();
        var encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
        new org.apache.avro.generic.GenericDatumWriter<GenericRecord>(old).write(oldRecord, encoder);
        encoder.flush();
        Generation read = new org.apache.avro.specific.SpecificDatumReader<Generation>(old,
                Generation.getClassSchema()).read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
        assertThat(read.getMethods()).containsExactly("generate");
    }

    @Test
    void taskVersionIsBackwardCompatibleOnEveryRecordThatCarriesIt() throws Exception {
        // Each record as it was before task_version (released/before-task-version): the registry (BACKWARD) must
        // accept today's schema after it, and what an old producer wrote reads with today's class as
        // task_version null, which the aggregator keeps as a configuration of its own.
        RegistryClient registry = platform.registry();
        List<String> checked = new ArrayList<>();
        for (SpecificRecord sample : SampleRecords.oneOfEach().values()) {
            Schema today = sample.getSchema();
            if (today.getField("task_version") == null) {
                continue;
            }
            String released = releasedSchema("before-task-version/" + today.getName() + ".avsc");
            String subject = "released-" + today.getName() + "-" + UUID.randomUUID() + "-value";
            registry.register(subject, released);
            registry.register(subject, today.toString());

            Schema old = new Schema.Parser().parse(released);
            GenericRecord asOldProducerWroteIt = new GenericDatumReader<GenericRecord>(today, old)
                    .read(null, DecoderFactory.get().binaryDecoder(avro(today, sample, SpecificData.getForSchema(today)), null));
            SpecificRecord read = new org.apache.avro.specific.SpecificDatumReader<SpecificRecord>(old, today)
                    .read(null, DecoderFactory.get().binaryDecoder(
                            avro(old, asOldProducerWroteIt, org.apache.avro.generic.GenericData.get()), null));
            SpecificRecordBase expected = (SpecificRecordBase) SpecificData.getForSchema(today).deepCopy(today, sample);
            expected.put("task_version", null);
            assertThat(read).as(today.getName()).isEqualTo(expected);
            checked.add(today.getName());
        }
        assertThat(checked).containsExactlyInAnyOrder("LabelStep", "Generation", "UnaryProbes", "BinaryProbes",
                "DocumentDistribution", "AlignmentMetric", "SpikinessMetric");
    }

    private static String releasedSchema(String file) throws java.io.IOException {
        try (var in = WireContractTest.class.getResourceAsStream("/released/" + file)) {
            assertThat(in).as("released/" + file).isNotNull();
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    private static byte[] avro(Schema schema, Object record, org.apache.avro.generic.GenericData model)
            throws java.io.IOException {
        var out = new java.io.ByteArrayOutputStream();
        var encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
        new org.apache.avro.generic.GenericDatumWriter<Object>(schema, model).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    @Test
    void backwardCompatibleChangeRegistersAndIncompatibleChangeIsRejected() throws Exception {
        RegistryClient registry = platform.registry();
        String subject = "compat-" + UUID.randomUUID() + "-value";
        String v1 = record("{\"name\": \"id\", \"type\": \"string\"}");
        String v2 = record("{\"name\": \"id\", \"type\": \"string\"},"
                + "{\"name\": \"note\", \"type\": \"string\", \"default\": \"\"}");
        String v3 = record("{\"name\": \"id\", \"type\": \"string\"},"
                + "{\"name\": \"note\", \"type\": \"string\", \"default\": \"\"},"
                + "{\"name\": \"score\", \"type\": \"double\"}");

        int first = registry.register(subject, v1);
        int second = registry.register(subject, v2);
        assertThat(second).isNotEqualTo(first);

        assertThatThrownBy(() -> registry.register(subject, v3))
                .isInstanceOf(RegistryClient.IncompatibleSchemaException.class)
                .hasMessageContaining(subject)
                .hasMessageContaining("incompatible");
    }

    @Test
    void undecodableRecordsOnDocumentsSurfaceAsTypedErrorsAndTheConsumerGoesOn() throws Exception {
        String key = UUID.randomUUID().toString();
        byte[] json = "{\"id\": \"d1\", \"text\": \"hello\"}".getBytes();
        byte[] unknownId = {0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xf0, 2, 'a'};
        int documentId = platform.registry().register(Topics.DOCUMENTS + "-value",
                Document.getClassSchema().toString());
        byte[] truncated = ByteBuffer.allocate(6).put((byte) 0).putInt(documentId).put((byte) 0x7f).array();
        Document valid = (Document) SampleRecords.oneOfEach().get(Topics.DOCUMENTS);
        valid.setId(key);

        Map<String, Object> rawProducer = new HashMap<>(producerConfig());
        rawProducer.put("value.serializer", ByteArraySerializer.class.getName());
        try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(rawProducer);
                KafkaProducer<String, Object> avro = new KafkaProducer<>(producerConfig())) {
            raw.send(new ProducerRecord<>(Topics.DOCUMENTS, key, json)).get();
            raw.send(new ProducerRecord<>(Topics.DOCUMENTS, key, unknownId)).get();
            raw.send(new ProducerRecord<>(Topics.DOCUMENTS, key, truncated)).get();
            avro.send(new ProducerRecord<>(Topics.DOCUMENTS, key, valid)).get();
        }

        List<ConsumerRecord<String, Decoded<Object>>> received = readAll(Topics.DOCUMENTS, key, consumerConfig());
        assertThat(received).hasSize(4);
        assertThat(undecodable(received.get(0)).reason()).contains("not Confluent-format Avro", "magic byte 0");
        assertThat(undecodable(received.get(0)).bytes()).isEqualTo(json);
        assertThat(undecodable(received.get(1)).reason()).contains("unknown schema id " + 0x7ffffff0);
        assertThat(undecodable(received.get(1)).bytes()).isEqualTo(unknownId);
        assertThat(undecodable(received.get(2)).reason()).contains("does not decode with schema id " + documentId);
        assertThat(received.get(3).value()).isEqualTo(Decoded.of(valid));
    }

    private static Decoded.Undecodable<Object> undecodable(ConsumerRecord<String, Decoded<Object>> record) {
        assertThat(record.value()).isInstanceOf(Decoded.Undecodable.class);
        return (Decoded.Undecodable<Object>) record.value();
    }

    private static String record(String fields) {
        return "{\"type\": \"record\", \"name\": \"Probe\", \"namespace\": \"test\", \"fields\": [" + fields + "]}";
    }

    private static Map<String, Object> producerConfig() {
        Map<String, Object> config = AvroSerdeConfig.producer(platform.registryUrl());
        config.put("bootstrap.servers", platform.bootstrapServers());
        return config;
    }

    private static Map<String, Object> consumerConfig() {
        Map<String, Object> config = AvroSerdeConfig.consumer(platform.registryUrl());
        config.put("bootstrap.servers", platform.bootstrapServers());
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return config;
    }

    /** Every record of the topic with this key, reading until a poll brings nothing new. */
    private static <V> List<ConsumerRecord<String, V>> readAll(String topic, String key, Map<String, Object> config) {
        List<ConsumerRecord<String, V>> matching = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 30_000;
            int quietPolls = 0;
            while (System.currentTimeMillis() < deadline && quietPolls < 3) {
                var records = consumer.poll(Duration.ofMillis(500));
                boolean sawAny = false;
                for (ConsumerRecord<String, V> record : records) {
                    sawAny = true;
                    if (key.equals(record.key())) {
                        matching.add(record);
                    }
                }
                quietPolls = sawAny || matching.isEmpty() ? 0 : quietPolls + 1;
            }
        }
        return matching;
    }
}
