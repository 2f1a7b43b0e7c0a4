package io.labelscope.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;

import io.labelscope.runtime.RuntimeConfig;

/** The models policy on the committed demo checkpoints: named models resolved, loaded on demand, LRU-bounded. */
class ModelsTest {
    private static final Path MODELS = Path.of("..", "models").toAbsolutePath().normalize();

    @Test
    void namedModelsAreLoadedOnDemandAndTheLeastRecentlyUsedIsUnloadedBeyondTheLimit() throws Exception {
        Map<String, String> taskModels = Map.of("moral", "demo/mfrc", "emotion", "demo/goemotions",
                "typo", "demo/nope");
        try (Models models = Models.load(TestSupport.model(), new RuntimeConfig("cpu", RuntimeConfig.ComputeType.F32,
                4, 1), Optional.of("default-demo"), OptionalInt.empty(), MODELS, 1)) {
            models.modelOfTask(task -> Optional.ofNullable(taskModels.get(task)));
            assertThat(models.forTask("plain")).get().extracting(Models.Served::name).isEqualTo("default-demo");
            assertThat(models.loadedNamed()).isEmpty();

            Models.Served moral = models.forTask("moral").orElseThrow();
            assertThat(moral.name()).isEqualTo("demo/mfrc");
            assertThat(models.forTask("moral")).get().isSameAs(moral);
            assertThat(models.loadedNamed()).containsExactly("demo/mfrc");

            // A second named model with max-loaded-models=1: the first is unloaded, the default stays.
            assertThat(models.forTask("emotion")).get().extracting(Models.Served::name).isEqualTo("demo/goemotions");
            assertThat(models.loadedNamed()).containsExactly("demo/goemotions");
            assertThat(models.forTask("plain")).get().extracting(Models.Served::name).isEqualTo("default-demo");
            Models.Served again = models.forTask("moral").orElseThrow();
            assertThat(again).isNotSameAs(moral);
            assertThat(models.loadedNamed()).containsExactly("demo/mfrc");

            // A name that is no checkpoint serves nothing, and the reason names where it was looked for.
            assertThat(models.forTask("typo")).isEmpty();
            assertThat(models.describe()).contains(MODELS.resolve("demo/nope").toString());
            assertThat(models.defaultModelTasks()).isEmpty();
        }
    }
}
