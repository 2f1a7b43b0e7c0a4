package io.labelscope.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.labelscope.platform.TopicDefinition;
import io.labelscope.platform.testing.RealKafka;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.Decoded;
import io.labelscope.schemas.serde.FailSafeAvroDeserializer;
import io.labelscope.schemas.serde.SchemaRegistryUnavailableException;

/**
 * Values that Avro itself would read without complaint but that a consumer must not accept: a record of another
 * schema, bytes after the record, strings that are not UTF-8. Real registry: the schema ids are real ones.
 */
@ExtendWith(RealKafka.class)
class StrictDecodingTest {

    private static TestPlatform platform;

    @BeforeAll
    static void createTopics(TestPlatform shared) {
        platform = shared;
        platform.ensureTopics(Topics.ALL.stream()
                .map(t -> new TopicDefinition(t.name(), t.compacted(), t.valueSubject(), t.valueSchema().toString()))
                .toList(), 1);
    }

    @Test
    void aRecordOfAnotherSchemaIsAWrongRecordTypeNamingBothSchemas() {
        byte[] annotation = serialize(Topics.ANNOTATIONS, SampleRecords.oneOfEach().get(Topics.ANNOTATIONS));

        Decoded.Undecodable<Document> byClass = undecodable(documents().deserialize(Topics.DOCUMENTS, annotation));
        assertThat(byClass.type()).isEqualTo(Decoded.WRONG_RECORD_TYPE);
        assertThat(byClass.reason()).contains("io.labelscope.schemas.Annotation", "io.labelscope.schemas.Document");
        assertThat(byClass.bytes()).isEqualTo(annotation);

        // The same, configured by name (a deserializer named by class in Kafka properties).
        Map<String, Object> config = new HashMap<>(AvroSerdeConfig.consumer(platform.registryUrl()));
        config.put(FailSafeAvroDeserializer.EXPECTED_RECORD_TYPE, Document.getClassSchema().getFullName());
        try (FailSafeAvroDeserializer<Object> byName = new FailSafeAvroDeserializer<>()) {
            byName.configure(config, false);
            assertThat(undecodable(byName.deserialize(Topics.DOCUMENTS, annotation)).type())
                    .isEqualTo(Decoded.WRONG_RECORD_TYPE);
        }
        // Without an expected type, any record is read (tools that follow every topic).
        try (FailSafeAvroDeserializer<Object> any = new FailSafeAvroDeserializer<>()) {
            any.configure(AvroSerdeConfig.consumer(platform.registryUrl()), false);
            assertThat(any.deserialize(Topics.DOCUMENTS, annotation))
                    .isEqualTo(Decoded.of(SampleRecords.oneOfEach().get(Topics.ANNOTATIONS)));
        }
    }

    @Test
    void bytesAfterACompleteRecordAreTrailingBytes() {
        byte[] valid = serialize(Topics.DOCUMENTS, SampleRecords.oneOfEach().get(Topics.DOCUMENTS));
        byte[] trailing = Arrays.copyOf(valid, valid.length + 3);
        trailing[valid.length] = 2;

        Decoded.Undecodable<Document> bad = undecodable(documents().deserialize(Topics.DOCUMENTS, trailing));
        assertThat(bad.type()).isEqualTo(Decoded.TRAILING_BYTES);
        assertThat(bad.reason()).contains("3 byte(s) follow a complete io.labelscope.schemas.Document record");
        assertThat(documents().deserialize(Topics.DOCUMENTS, valid))
                .isEqualTo(Decoded.of(SampleRecords.oneOfEach().get(Topics.DOCUMENTS)));
    }

    @Test
    void stringsMustBeWellFormedUtf8AndWellFormedOnesOfEveryLengthDecodeExactly() {
        String text = "fine text, then MARK and the rest";
        Document doc = Document.newBuilder((Document) SampleRecords.oneOfEach().get(Topics.DOCUMENTS)).setText(text)
                .build();
        byte[] valid = serialize(Topics.DOCUMENTS, doc);
        int at = indexOf(valid, "MARK".getBytes(StandardCharsets.UTF_8));
        // Same byte length, so the Avro length prefix still fits: only the bytes are wrong.
        List<byte[]> illFormed = List.of(
                new byte[] {(byte) 0xff, 'A', 'R', 'K'},                         // never a UTF-8 byte
                new byte[] {(byte) 0xc3, '(', 'R', 'K'},                         // lead without continuation
                new byte[] {(byte) 0xc0, (byte) 0xaf, 'R', 'K'},                 // overlong '/'
                new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80, 'K'},         // a UTF-16 surrogate
                new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
                new byte[] {'M', 'A', 'R', (byte) 0xe2});                         // a three-byte lead, then a space
        for (byte[] replacement : illFormed) {
            byte[] bad = valid.clone();
            System.arraycopy(replacement, 0, bad, at, 4);
            Decoded.Undecodable<Document> u = undecodable(documents().deserialize(Topics.DOCUMENTS, bad));
            assertThat(u.type()).as(Arrays.toString(replacement)).isEqualTo(Decoded.INVALID_UTF8);
            assertThat(u.reason()).contains("not valid UTF-8").contains("it starts 'fine text, then");
        }
        // Two-, three- and four-byte characters (é, 日, 🎉), in the text and in a map key and value.
        String wide = "é 日本 🎉 \u00ff\u07ff\uffff\ud83d\ude00 end";
        Document international = Document.newBuilder(doc).setText(wide).setMetadata(Map.of("ключ", "值 🎉")).build();
        assertThat(documents().deserialize(Topics.DOCUMENTS, serialize(Topics.DOCUMENTS, international)))
                .isEqualTo(Decoded.of(international));
    }

    @Test
    void aRegistryThatCannotBeReachedIsInfrastructureNotABadRecord() throws Exception {
        byte[] valid = serialize(Topics.DOCUMENTS, SampleRecords.oneOfEach().get(Topics.DOCUMENTS));
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        Map<String, Object> config = new HashMap<>(AvroSerdeConfig.consumer("http://127.0.0.1:" + closedPort));
        config.put("apicurio.registry.retry-count", 1);
        config.put("apicurio.registry.retry-backoff-ms", 10);
        try (FailSafeAvroDeserializer<Document> unreachable = new FailSafeAvroDeserializer<>(Document.class)) {
            unreachable.configure(config, false);
            assertThatThrownBy(() -> unreachable.deserialize(Topics.DOCUMENTS, valid))
                    .isInstanceOf(SchemaRegistryUnavailableException.class)
                    .hasMessageContaining("could not be fetched from the schema registry");
        }
    }

    private static FailSafeAvroDeserializer<Document> documents() {
        FailSafeAvroDeserializer<Document> d = new FailSafeAvroDeserializer<>(Document.class);
        d.configure(AvroSerdeConfig.consumer(platform.registryUrl()), false);
        return d;
    }

    private static byte[] serialize(String topic, SpecificRecord record) {
        try (AvroKafkaSerializer<SpecificRecord> s = new AvroKafkaSerializer<>()) {
            s.configure(AvroSerdeConfig.producer(platform.registryUrl()), false);
            return s.serialize(topic, record);
        }
    }

    private static <T> Decoded.Undecodable<T> undecodable(Decoded<T> d) {
        assertThat(d).isInstanceOf(Decoded.Undecodable.class);
        return (Decoded.Undecodable<T>) d;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("marker not in the serialized record");
    }
}
