package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.runtime.decode.GenerationResult;
import io.labelscope.runtime.decode.LabelDecoder;
import io.labelscope.runtime.task.Demo;
import io.labelscope.runtime.task.TaskDefinition;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.TinyCheckpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 2000+ prompts: open NDArrays return to the same count, heap and RSS stay flat. */
class MemoryTest {

    @TempDir
    Path dir;

    static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** A long decode keeps exactly a key and a value buffer per layer in the cache, whatever the step count. */
    @Test
    void cacheHoldsTwoArraysPerLayerThroughALongDecode() throws Exception {
        Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB).withSeed(9));
        try (LlmModel model = LlmModel.load(dir, RuntimeConfig.cpu());
             io.labelscope.runtime.model.KvCache cache = model.lm().newCache(model.manager(), 2)) {
            int base = model.openArrays();
            long[][] feed = {{0, 5, 6, 7}, {-1, -1, 0, 9}};
            for (int step = 0; step < 60; step++) {
                try (ai.djl.ndarray.NDManager m = model.manager().newSubManager()) {
                    long[] next = model.lm().forward(m, feed, cache, true).argMax(-1).toLongArray();
                    feed = new long[][] {{next[0]}, {next[1]}};
                }
                assertThat(cache.openArrays()).as("step %d", step).isEqualTo(2 * model.config().numLayers());
                assertThat(model.openArrays()).as("step %d", step).isEqualTo(base + 2 * model.config().numLayers());
            }
            assertThat(cache.length()).isEqualTo(4 + 59);
        }
    }

    /**
     * 2,000 decode steps of one sequence into a cache reserved for them (in a child JVM with a fixed, pre-touched
     * heap, so RSS is native memory): every step writes in place (the buffer is never replaced), the open-array
     * count is the same after every step, and RSS from step 200 to 2,000 grows by less than 24 MiB (the cache is
     * allocated before the first step, so nothing legitimately grows; a step's temporaries left open, or a cache
     * that copies itself, grow it by far more).
     */
    @Test
    void twoThousandDecodeStepsKeepArraysAndRssFlat() throws Exception {
        Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB).withSeed(9));
        String log = io.labelscope.runtime.testing.LoadProbe.runMain(io.labelscope.runtime.testing.DecodeProbe.class,
                List.of("-Xms128m", "-Xmx128m", "-XX:+AlwaysPreTouch"), List.of(dir.toString(), "2000"));
        System.out.println(log);
        assertThat(log).as("probe output").contains("LENGTH " + (4 + 1999)).doesNotContain("CHANGED");
        java.util.Map<Integer, long[]> at = new java.util.HashMap<>();
        int base = -1;
        for (String line : log.split("\n")) {
            String[] f = line.strip().split(" ");
            if (f[0].equals("BASE")) {
                base = Integer.parseInt(f[2]);
            } else if (f[0].equals("STEP")) {
                at.put(Integer.parseInt(f[1]), new long[] {Long.parseLong(f[3]), Long.parseLong(f[5])});
            }
        }
        int layers = TinyCheckpoint.tiny(Fixtures.VOCAB).layers();
        assertThat(at.get(1999)[1]).as("open arrays: the model's plus two cache buffers per layer").isEqualTo(base + 2 * layers);
        // Measured 12.6-16.3 MiB here (JIT code, allocator arenas for temporaries that grow with the context); leaving a
        // step's temporaries open grows it by ~50 KB per step, 90 MiB over the run.
        assertThat(at.get(1999)[0] - at.get(200)[0]).as("RSS growth from step 200 to 2,000, KB").isLessThan(24L << 10);
    }

    @Test
    void footprintStaysFlatOver2000Prompts() throws Exception {
        Fixtures.write(dir, TinyCheckpoint.tiny(Fixtures.VOCAB).withSeed(9));
        List<Demo> pool = List.of(new Demo("I am happy", List.of("joy")), new Demo("so sad and scary", List.of("fear", "sadness")));
        TaskDefinition task = TaskDefinition.defaults("m", List.of("joy", "fear", "sadness"), pool, 2, 1).withMaxNewTokens(6);
        String[] words = {"I", "am", "happy", "sad", "today", "so", "it", "is", "great", "scary", "a", "b"};
        try (LlmModel model = LlmModel.load(dir, RuntimeConfig.cpu().withMaxBatchSize(32));
             LabelDecoder d = new LabelDecoder(model, task, true)) {
            int baselineArrays = -1;
            long baselineHeap = 0;
            long baselineRss = 0;
            long midRss = 0;
            int done = 0;
            int steps = 0;
            java.util.Random rnd = new java.util.Random(1);
            for (int round = 0; round < 70; round++) {
                List<String> docs = new ArrayList<>();
                for (int i = 0; i < 32; i++) {
                    StringBuilder sb = new StringBuilder();
                    int n = 1 + rnd.nextInt(12);
                    for (int w = 0; w < n; w++) {
                        sb.append(w == 0 ? "" : " ").append(words[rnd.nextInt(words.length)]);
                    }
                    docs.add(sb.toString());
                }
                // Alternate free decoding with scored answers so the label-step capture path runs too.
                List<GenerationResult> rs = round % 2 == 0 ? d.classify(docs)
                        : d.score(docs, java.util.Collections.nCopies(docs.size(), "\n{\"label\": [\"joy\", \"fear\"]}"));
                for (GenerationResult r : rs) {
                    steps += r.steps().size();
                }
                done += docs.size();
                if (round == 37) {
                    midRss = rssKb();
                }
                if (round == 5) {
                    baselineArrays = model.openArrays();
                    baselineHeap = heapAfterGc();
                    baselineRss = rssKb();
                }
            }
            assertThat(done).isGreaterThanOrEqualTo(2000);
            assertThat(steps).isGreaterThanOrEqualTo(32 * 35); // one step per scored answer within 6 tokens
            int arrays = model.openArrays();
            long heap = heapAfterGc();
            long rss = rssKb();
            System.out.printf("memory: %d prompts, %d steps, arrays %d -> %d, heap %d -> %d KB, rss %d -> %d -> %d KB%n",
                    done, steps, baselineArrays, arrays, baselineHeap / 1024, heap / 1024, baselineRss, midRss, rss);
            assertThat(arrays).isEqualTo(baselineArrays);
            assertThat(heap - baselineHeap).isLessThan(16L << 20);
            // Allocator caches and JIT code settle early; the second half must not keep growing.
            assertThat(rss - baselineRss).isLessThan(96L << 10);
            assertThat(rss - midRss).isLessThan(24L << 10);
        }
    }
}
