package io.labelscope.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

import io.apicurio.registry.serde.avro.AvroKafkaSerdeConfig;
import io.labelscope.schemas.Generation;

/** One reader per writer schema, shared across records and threads, and still the right one per version. */
class CachingAvroDatumProviderTest {

    private static final Schema RELEASED = released();

    @Test
    void oneReaderAndOneWriterPerSchemaAndAReaderPerSchemaVersion() {
        CachingAvroDatumProvider<Object> provider = configured();
        DatumReader<Object> current = provider.createDatumReader(Generation.getClassSchema());
        assertThat(provider.createDatumReader(Generation.getClassSchema())).isSameAs(current);
        // An equal schema parsed again (as after a registry cache refresh) finds the same reader.
        assertThat(provider.createDatumReader(new Schema.Parser().parse(Generation.getClassSchema().toString())))
                .isSameAs(current);
        assertThat(provider.createDatumReader(RELEASED)).isNotSameAs(current);
        Generation g = generation("d1", 3);
        DatumWriter<Object> writer = provider.createDatumWriter(g, Generation.getClassSchema());
        assertThat(provider.createDatumWriter(generation("d2", 1), Generation.getClassSchema())).isSameAs(writer);
    }

    @Test
    void eachSchemaVersionIsReadWithItsOwnResolution() throws Exception {
        CachingAvroDatumProvider<Object> provider = configured();
        // Today's record, then an old producer's record (released schema, no `methods`), then today's again:
        // a reader cached under the wrong key would read one layout with the other's fields.
        Generation today = generation("d1", 3);
        byte[] todayBytes = write(provider.createDatumWriter(today, Generation.getClassSchema()), today);
        GenericRecord old = new GenericRecordBuilder(RELEASED).set("document_id", "old").set("task", "t")
                .set("model", "m").set("run_id", "r").set("raw_output", "[]").set("parsed_labels", List.of())
                .set("steps_total", 0).set("prompt_tokens", 1).set("output_tokens", 1).set("latency_ms", 1L)
                .set("stop_reason", "eos").set("produced_at", 0L).build();
        byte[] oldBytes = write(new GenericDatumWriter<>(RELEASED), old);

        assertThat(read(provider.createDatumReader(Generation.getClassSchema()), todayBytes)).isEqualTo(today);
        Generation fromOld = (Generation) read(provider.createDatumReader(RELEASED), oldBytes);
        assertThat(fromOld.getDocumentId()).isEqualTo("old");
        assertThat(fromOld.getMethods()).containsExactly("generate");
        assertThat(read(provider.createDatumReader(Generation.getClassSchema()), todayBytes)).isEqualTo(today);
    }

    @Test
    void theSharedReaderDecodesCorrectlyFromManyThreadsAtOnce() throws Exception {
        CachingAvroDatumProvider<Object> provider = configured();
        List<Generation> records = new ArrayList<>();
        List<byte[]> bytes = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Generation g = generation("doc-" + i, i % 7);
            records.add(g);
            bytes.add(write(provider.createDatumWriter(g, Generation.getClassSchema()), g));
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    for (int round = 0; round < 50; round++) {
                        for (int i = 0; i < records.size(); i++) {
                            if (!read(provider.createDatumReader(Generation.getClassSchema()), bytes.get(i))
                                    .equals(records.get(i))) {
                                return false;
                            }
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> r : results) {
                assertThat(r.get()).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static CachingAvroDatumProvider<Object> configured() {
        CachingAvroDatumProvider<Object> provider = new CachingAvroDatumProvider<>();
        provider.configure(new AvroKafkaSerdeConfig(AvroSerdeConfig.registry("http://127.0.0.1:1")));
        return provider;
    }

    private static Generation generation(String id, int steps) {
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < steps; i++) {
            labels.add("label" + i);
        }
        return Generation.newBuilder().setDocumentId(id).setTask("t").setModel("m").setRunId("r")
                .setRawOutput(labels.toString()).setParsedLabels(labels).setStepsTotal(steps).setPromptTokens(10)
                .setOutputTokens(steps + 2).setLatencyMs(5).setStopReason("eos")
                .setProducedAt(java.time.Instant.ofEpochMilli(1_700_000_000_000L + steps))
                .setLabels(List.of("label0", "label1")).build();
    }

    private static byte[] write(DatumWriter<Object> writer, Object value) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        writer.write(value, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    @SuppressWarnings("unchecked")
    private static <T> Object read(DatumReader<T> reader, byte[] bytes) throws IOException {
        return reader.read(null, DecoderFactory.get().binaryDecoder(bytes, null));
    }

    private static Schema released() {
        try (InputStream in = CachingAvroDatumProviderTest.class.getResourceAsStream("/released/Generation.avsc")) {
            return new Schema.Parser().parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
