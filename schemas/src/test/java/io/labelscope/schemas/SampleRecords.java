package io.labelscope.schemas;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.avro.specific.SpecificRecord;

/** One realistic record of every type on the public topics. */
final class SampleRecords {

    static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    static final String TASK_VERSION = "3f2a9c0b7d41";
    static final List<String> LABELS = List.of("joy", "optimism", "admiration", "surprise", "fear", "sadness", "anger");

    private SampleRecords() {
    }

    /** Topic name → a record for it. */
    static Map<String, SpecificRecord> oneOfEach() {
        Map<String, SpecificRecord> records = new LinkedHashMap<>();
        records.put(Topics.DOCUMENTS, Document.newBuilder()
                .setId("d1").setTask("goemotions").setText("Wait, they actually won?? That's amazing!")
                .setMetadata(Map.of("source", "test")).setSubmittedAt(NOW).build());
        records.put(Topics.ANNOTATIONS, Annotation.newBuilder()
                .setDocumentId("d1").setTask("goemotions").setAnnotatorId("a7")
                .setLabels(List.of("joy", "surprise")).setAnnotatedAt(NOW).build());
        Map<String, Double> logits = new LinkedHashMap<>();
        Map<String, Double> probabilities = new LinkedHashMap<>();
        for (int i = 0; i < LABELS.size(); i++) {
            logits.put(LABELS.get(i), 10.0 + i);
            probabilities.put(LABELS.get(i), 0.1);
        }
        logits.put("none", 9.5);
        probabilities.put("none", 0.3);
        records.put(Topics.LABEL_STEPS, LabelStep.newBuilder()
                .setDocumentId("d1").setTask("goemotions").setModel("demo").setRunId("r1").setStep(0)
                .setStepsTotal(2).setGeneratedLabel("joy").setLogits(logits).setProbabilities(probabilities)
                .setTokenIndex(4).setProducedAt(NOW).setLabels(LABELS).setTaskVersion(TASK_VERSION).build());
        records.put(Topics.GENERATIONS, Generation.newBuilder()
                .setDocumentId("d1").setTask("goemotions").setModel("demo").setRunId("r1")
                .setRawOutput("{\"label\": [\"joy\", \"surprise\"]}").setParsedLabels(List.of("joy", "surprise"))
                .setStepsTotal(2).setPromptTokens(120).setOutputTokens(12).setLatencyMs(35).setStopReason("eos")
                .setProducedAt(NOW).setLabels(LABELS).setMethods(List.of("generate", "unary", "binary"))
                .setTaskVersion(TASK_VERSION).build());
        records.put(Topics.UNARY_PROBES, UnaryProbes.newBuilder()
                .setDocumentId("d1").setTask("goemotions").setModel("demo").setRunId("r1").setLabels(LABELS)
                .setProbes(Map.of("joy", new UnaryLogits(12.5, 9.0), "surprise", new UnaryLogits(8.0, 11.0),
                        "none", new UnaryLogits(7.5, 13.25)))
                .setMethods(List.of("generate", "unary", "binary")).setPromptTokens(140).setLatencyMs(20)
                .setProducedAt(NOW).setTaskVersion(TASK_VERSION).build());
        records.put(Topics.BINARY_PROBES, BinaryProbes.newBuilder()
                .setDocumentId("d1").setTask("goemotions").setModel("demo").setRunId("r1").setLabels(LABELS)
                .setPairs(List.of(new PairLogits("joy", "surprise", 14.0, 10.5),
                        new PairLogits("joy", "none", 13.0, 9.0), new PairLogits("surprise", "none", 9.5, 11.0)))
                .setMethods(List.of("generate", "unary", "binary")).setPromptTokens(160).setLatencyMs(30)
                .setProducedAt(NOW).setTaskVersion(TASK_VERSION).build());
        records.put(Topics.DISTRIBUTIONS, DocumentDistribution.newBuilder()
                .setDocumentId("d1").setTask("goemotions").setModel("demo").setRunId("r1").setLabels(LABELS)
                .setHuman(Map.of("joy", 1.0, "surprise", 0.5)).setAnnotators(2)
                .setMethods(Map.of("max_over_generations", MethodResult.newBuilder()
                        .setDistribution(Map.of("joy", 0.9, "surprise", 0.7)).setPredicted(List.of("joy", "surprise"))
                        .setNll(1.25).setL1(0.3).setExampleF1(null).build()))
                .setUpdatedAt(NOW).setVersion(3).setTaskVersion(TASK_VERSION).build());
        records.put(Topics.ALIGNMENT_METRICS, AlignmentMetric.newBuilder()
                .setTask("goemotions").setModel("demo").setMethod("max_over_generations")
                .setWindowStart(NOW).setWindowEnd(NOW.plusSeconds(60)).setDocuments(12)
                .setMeanNll(2.5).setMeanL1(0.8).setMeanExampleF1(0.6).setUpdatedAt(NOW).setTaskVersion(TASK_VERSION).build());
        Summary summary = Summary.newBuilder().setN(4).setMean(0.9).setStd(0.05).build();
        records.put(Topics.SPIKINESS_METRICS, SpikinessMetric.newBuilder()
                .setTask("goemotions").setModel("demo").setStepIndex(0).setPosition("intermediate")
                .setTop1(summary).setTop2(summary).setEntropyBits(summary)
                .setTop1Histogram(List.of(0L, 0L, 0L, 0L, 0L, 0L, 0L, 1L, 1L, 2L))
                .setSecondPredictedNextRate(0.5).setR1Pred(summary).setIntermediateAtR1(null)
                .setSecondNeverPredictedRate(0.25).setUpdatedAt(NOW).setTaskVersion(TASK_VERSION).build());
        records.put(Topics.DEAD_LETTERS, DeadLetter.newBuilder()
                .setSourceTopic("documents").setSourcePartition(1).setSourceOffset(42)
                .setKey(java.nio.ByteBuffer.wrap(new byte[] {'d', '9'}))
                .setValue(java.nio.ByteBuffer.wrap(new byte[] {'{', '}'}))
                .setReason("value is not Confluent-format Avro").setErrorType("undecodable")
                .setRejectedBy("test").setFailedAt(NOW).build());
        return records;
    }
}
