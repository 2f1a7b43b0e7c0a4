package io.labelscope.schemas.serde;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.specific.SpecificRecord;

import io.apicurio.registry.serde.avro.AvroKafkaDeserializer;
import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.Document;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.Topics;

/**
 * Decode cost per record of {@link FailSafeAvroDeserializer} (expected type, strict UTF-8, trailing-byte check)
 * against Apicurio's plain deserializer, which is what it called before those checks (issue #13), on a document
 * and on a 28-label GoEmotions label step (the aggregator's commonest input). A timing loop, not JMH: the ratio is
 * what it is for. Run: {@code java -cp <schemas test classpath> io.labelscope.schemas.serde.DecodeTiming [rounds]}.
 */
public final class DecodeTiming {

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int perRound = 200_000;
        TestPlatform platform = TestPlatform.get();
        Map<String, Object> producer = AvroSerdeConfig.producer(platform.registryUrl());
        Map<String, Object> consumer = AvroSerdeConfig.consumer(platform.registryUrl());

        Document doc = Document.newBuilder().setId("doc-000123").setTask("goemotions")
                .setText("Wait, they actually won?? That's amazing! I did not see that coming at all, honestly. "
                        .repeat(3) + "Très bien — 日本 🎉")
                .setMetadata(Map.of("source", "reddit")).setSubmittedAt(Instant.now()).build();
        List<String> labels = new ArrayList<>();
        Map<String, Double> logits = new LinkedHashMap<>();
        for (int i = 0; i < 28; i++) {
            labels.add("emotion_" + i);
            logits.put("emotion_" + i, 10.0 + i);
        }
        logits.put("none", 9.5);
        LabelStep step = LabelStep.newBuilder().setDocumentId("doc-000123").setTask("goemotions").setModel("demo")
                .setRunId("0123456789abcdef0123456789abcdef").setStep(0).setStepsTotal(2).setGeneratedLabel("emotion_3")
                .setLogits(logits).setProbabilities(logits).setTokenIndex(4).setProducedAt(Instant.now())
                .setLabels(labels).build();

        for (SpecificRecord record : List.of(doc, step)) {
            byte[] bytes;
            try (AvroKafkaSerializer<SpecificRecord> s = new AvroKafkaSerializer<>()) {
                s.configure(producer, false);
                bytes = s.serialize(record instanceof Document ? Topics.DOCUMENTS : Topics.LABEL_STEPS, record);
            }
            AvroKafkaDeserializer<Object> plain = new AvroKafkaDeserializer<>();
            plain.configure(consumer, false);
            @SuppressWarnings("unchecked")
            FailSafeAvroDeserializer<Object> strict = new FailSafeAvroDeserializer<>(record.getClass());
            strict.configure(consumer, false);
            if (!(strict.deserialize("t", bytes) instanceof Decoded.Ok<Object> ok) || !ok.value().equals(record)) {
                throw new IllegalStateException("strict decoding does not give the record back");
            }
            double plainBest = Double.MAX_VALUE;
            double strictBest = Double.MAX_VALUE;
            long sink = 0;
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    sink += plain.deserialize("t", bytes).hashCode();
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    sink += strict.deserialize("t", bytes).hashCode();
                }
                long t2 = System.nanoTime();
                plainBest = Math.min(plainBest, (t1 - t0) / (double) perRound);
                strictBest = Math.min(strictBest, (t2 - t1) / (double) perRound);
            }
            System.out.printf("%s (%d bytes): Apicurio plain %.0f ns/record, FailSafe strict %.0f ns/record, "
                    + "ratio %.2f (best of %d rounds of %d; sink %d)%n", record.getClass().getSimpleName(),
                    bytes.length, plainBest, strictBest, strictBest / plainBest, rounds, perRound, sink % 10);
            plain.close();
            strict.close();
        }
        System.exit(0);
    }
}
