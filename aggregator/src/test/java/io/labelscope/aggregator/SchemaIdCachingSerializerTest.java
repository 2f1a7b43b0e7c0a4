package io.labelscope.aggregator;

import static org.assertj.core.api.Assertions.assertThat;

import io.apicurio.registry.serde.avro.AvroKafkaSerializer;
import io.labelscope.platform.testing.TestPlatform;
import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.Topics;
import io.labelscope.schemas.serde.AvroSerdeConfig;
import java.time.Instant;
import java.util.Map;
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
}
