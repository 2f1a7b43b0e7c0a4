package io.labelscope.demomodel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DemoDataTest {
    static Path data() {
        return Path.of(System.getProperty("labelscope.root", "..")).resolve("data");
    }

    @Test
    void mfrcAnnotatorsReproduceTheVoteCounts() {
        Map<String, Integer> votes = Map.of("care", 2, "equality", 1, "purity", 0, "non-moral", 1,
                "thin morality", 1);
        List<List<String>> a = DemoData.mfrcAnnotators(votes, 7);
        // smallest consistent count: 1 non-moral + max(2) = 3
        assertThat(a).hasSize(3);
        assertThat(a.get(0)).isEmpty(); // the non-moral annotator
        assertThat(a.stream().filter(s -> s.contains("care")).count()).isEqualTo(2);
        assertThat(a.stream().filter(s -> s.contains("equality")).count()).isEqualTo(1);
        assertThat(a.stream().flatMap(List::stream)).doesNotContain("purity");
        // more votes than 3 annotators can hold
        List<List<String>> b = DemoData.mfrcAnnotators(Map.of("care", 3, "non-moral", 2), 7);
        assertThat(b).hasSize(5);
        assertThat(b.stream().filter(s -> s.contains("care")).count()).isEqualTo(3);
        // labels come in instruction order
        List<List<String>> c = DemoData.mfrcAnnotators(Map.of("purity", 3, "authority", 3), 1);
        assertThat(c).allSatisfy(s -> assertThat(s).containsExactly("authority", "purity"));
    }

    @Test
    void goemotionsPoolsToTheSevenClusters() {
        List<DemoData.Doc> dev = DemoData.goemotions(data(), "dev");
        assertThat(dev).hasSize(5426);
        long none = dev.stream().filter(d -> d.annotators().get(0).isEmpty()).count();
        // SOURCE.md: 29.3% of dev has no cluster
        assertThat((double) none / dev.size()).isBetween(0.28, 0.30);
        assertThat(dev.get(0).annotators()).hasSize(1);
        dev.forEach(d -> assertThat(DemoData.GOEMOTIONS_LABELS).containsAll(d.annotators().get(0)));
    }

    @Test
    void mfrcSplitsAreDisjointAndHeldOut() {
        List<DemoData.Doc> test = DemoData.mfrc(data(), "test", Main.DATA_SEED);
        List<DemoData.Doc> train = DemoData.mfrc(data(), "train", Main.DATA_SEED);
        assertThat(test).hasSizeGreaterThan(1000);
        java.util.Set<String> trainTexts = new java.util.HashSet<>();
        train.forEach(d -> trainTexts.add(d.text()));
        assertThat(test.stream().filter(d -> trainTexts.contains(d.text())).count()).isZero();
        test.forEach(d -> assertThat(d.annotators().size()).isGreaterThanOrEqualTo(3));
    }
}
