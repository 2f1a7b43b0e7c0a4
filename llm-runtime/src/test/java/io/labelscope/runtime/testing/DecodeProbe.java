package io.labelscope.runtime.testing;

import ai.djl.ndarray.NDManager;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.model.KvCache;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A child JVM that decodes one sequence for many steps into a cache reserved for all of them and reports, every
 * 200 steps, {@code STEP n RSS kb ARRAYS open CAPACITY slots}, and {@code CHANGED step what} whenever the open-array
 * count or the cache's capacity differs from the first step's. Run with a fixed, pre-touched heap
 * ({@code -Xms=-Xmx -XX:+AlwaysPreTouch}) so RSS growth is native memory, not heap pages touched for the first time.
 *
 * <p>args: checkpoint dir, steps.
 */
public final class DecodeProbe {
    private DecodeProbe() {}

    public static void main(String[] args) throws Exception {
        int steps = Integer.parseInt(args[1]);
        try (LlmModel model = LlmModel.load(Path.of(args[0]), RuntimeConfig.cpu());
             KvCache cache = model.lm().newCache(model.manager(), 1)) {
            long[][] feed = {{0, 5, 6, 7}};
            cache.reserve(feed[0].length + steps);
            System.out.println("BASE ARRAYS " + model.openArrays());
            int arrays = -1;
            int capacity = -1;
            for (int step = 0; step < steps; step++) {
                try (NDManager m = model.manager().newSubManager()) {
                    long[] next = model.lm().forward(m, feed, cache, true).argMax(-1).toLongArray();
                    feed = new long[][] {{next[0]}};
                }
                if (step == 0) {
                    arrays = model.openArrays();
                    capacity = cache.capacity();
                } else if (model.openArrays() != arrays || cache.capacity() != capacity) {
                    System.out.println("CHANGED " + step + " arrays " + model.openArrays() + " capacity "
                            + cache.capacity());
                }
                if (step % 200 == 0 || step == steps - 1) {
                    System.out.println("STEP " + step + " RSS " + rssKb() + " ARRAYS " + model.openArrays()
                            + " CAPACITY " + cache.capacity());
                }
            }
            System.out.println("LENGTH " + cache.length());
        }
    }

    static long rssKb() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
