package io.labelscope.aggregator.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

/**
 * Issue #15 item 6 added the run's task version to the documents' state. State a running aggregator wrote before
 * (in its store and changelog) must still be read after the upgrade: its runs are the configuration without a
 * version, as their records had none.
 */
class StateBeforeTaskVersionTest {

    @Test
    void aDocumentsStateWrittenBeforeTaskVersionsIsReadWithTheVersionNull() throws Exception {
        Schema before = AggregatorSerdes.DOCUMENT_STATE_BEFORE_TASK_VERSION;
        assertThat(before.getField("runs").schema().getElementType().getField("task_version")).isNull();
        DocumentStateRecord today = DocumentStateRecord.newBuilder().setDocumentId("d1").setTask("emotions")
                .setLabels(List.of("joy", "fear")).setAnnotations(List.of())
                .setRuns(List.of(RunRecord.newBuilder().setModel("org/model").setRunId("run-1")
                        .setTaskVersion("a1b2c3d4e5f6").setMethods(List.of("generate")).setSteps(List.of())
                        .setGeneration(null).setUnary(null).setBinary(null).setEmitted(null).build()))
                .build();
        // The same state as the version before wrote it: under its schema, so without the field.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        var encoder = EncoderFactory.get().binaryEncoder(out, null);
        new SpecificDatumWriter<DocumentStateRecord>(DocumentStateRecord.getClassSchema()).write(today, encoder);
        encoder.flush();
        GenericRecord asWritten = new GenericDatumReader<GenericRecord>(DocumentStateRecord.getClassSchema(), before)
                .read(null, DecoderFactory.get().binaryDecoder(out.toByteArray(), null));
        ByteBuffer encoded = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), before).encode(asWritten);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);

        DocumentStateRecord read = new AggregatorSerdes(AvroSerdeConfig.registry("http://127.0.0.1:1")).documentState
                .deserializer().deserialize("documents", bytes);
        RunRecord run = read.getRuns().get(0);
        assertThat(run.getModel()).isEqualTo("org/model");
        assertThat(run.getRunId()).isEqualTo("run-1");
        assertThat(run.getMethods()).containsExactly("generate");
        assertThat(run.getTaskVersion()).isNull();

        // Without the older schema the bytes would not be readable at all.
        assertThatThrownBy(() -> new InternalAvroSerde<>(DocumentStateRecord.getClassSchema()).deserializer()
                .deserialize("documents", bytes)).isInstanceOf(SerializationException.class);
    }
}
