package io.labelscope.aggregator.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.labelscope.aggregator.ops.StreamThreadRecovery;
import io.labelscope.platform.testing.ChildProcesses;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import io.labelscope.schemas.serde.SchemaRegistryUnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

/** The cached-id serializer writes exactly the bytes the registry's serializer writes (real registry). */
class SchemaIdCachingSerializerTest {

    static AlignmentMetric metric(String method, long documents) {
        return AlignmentMetric.newBuilder().setTask("emotions").setModel("m").setMethod(method)
                .setWindowStart(null).setWindowEnd(null).setDocuments(documents).setMeanNll(documents == 0 ? null
                        : 1.25).setMeanL1(0.5).setMeanExampleF1(null).setUpdatedAt(Instant.ofEpochMilli(1234))
                .build();
    }

    @Test
    void sameBytesAsTheRegistrySerializer() {
        Map<String, Object> config = AvroSerdeConfig.registry(TestPlatform.get().registryUrl());
        AvroKafkaSerializer<AlignmentMetric> reference = new AvroKafkaSerializer<>();
        reference.configure(config, false);
        try (SchemaIdCachingSerializer<AlignmentMetric> cached = new SchemaIdCachingSerializer<>()) {
            cached.configure(config, false);
            for (int i = 0; i < 3; i++) {   // the first goes through the registry, the others use its header
                AlignmentMetric m = metric("method-" + i, i);
                assertThat(cached.serialize(Topics.ALIGNMENT_METRICS, m))
                        .isEqualTo(reference.serialize(Topics.ALIGNMENT_METRICS, m));
            }
        }
        reference.close();
    }

    /**
     * A registry that does not answer (nothing listens on the port) is retried for the budget, then reported as
     * transient, which makes the stream thread be replaced instead of the client shut down.
     */
    @Test
    void anUnreachableRegistryIsRetriedThenReportedAsTransient() throws Exception {
        int nothingListens = ChildProcesses.freePort();
        Map<String, Object> config = AvroSerdeConfig.registry("http://127.0.0.1:" + nothingListens);
        try (SchemaIdCachingSerializer<AlignmentMetric> cached = new SchemaIdCachingSerializer<>()) {
            cached.configure(config, false);
            long start = System.nanoTime();
            Throwable thrown = catchThrowable(() -> cached.serialize(Topics.ALIGNMENT_METRICS, metric("m", 1)));
            Duration waited = Duration.ofNanos(System.nanoTime() - start);

            assertThat(thrown).isInstanceOf(SchemaRegistryUnavailableException.class)
                    .hasMessageContaining(Topics.ALIGNMENT_METRICS);
            assertThat(waited).as("retried for about the budget")
                    .isBetween(SchemaIdCachingSerializer.REGISTRY_RETRY_BUDGET.minusMillis(1200),
                            SchemaIdCachingSerializer.REGISTRY_RETRY_BUDGET.plusSeconds(5));
            // As Kafka Streams hands it over: wrapped by the record collector and the task.
            StreamsException wrapped = new StreamsException(new StreamsException("Unable to serialize record",
                    thrown));
            assertThat(new StreamThreadRecovery().handle(wrapped))
                    .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
            assertThat(new StreamThreadRecovery().handle(new StreamsException(new IllegalStateException("bug"))))
                    .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
        }
    }
}
