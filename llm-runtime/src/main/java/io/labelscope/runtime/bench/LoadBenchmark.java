package io.labelscope.runtime.bench;

import ai.djl.engine.Engine;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.RuntimeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Load benchmark: peak RSS and wall time to load a random ~300M-parameter BF16 Llama checkpoint in F32 and in F16
 * compute, each in a fresh child JVM (so the peak is the load's alone), checked against the bound of issue #16:
 * peak RSS at most 1.5 × (final weight bytes + file bytes). Prints a Markdown table.
 *
 * <pre>
 * java -cp CP io.labelscope.runtime.bench.LoadBenchmark [--dir DIR] [--child-classpath CP2] [--label NAME] [--xmx 2g]
 *     [--model llama-300m | llama3-embedding]
 * </pre>
 * {@code --model llama3-embedding} is issue #16's failing case instead: a Llama-3-sized 128256 × 2048 BF16 embedding
 * under {@code -Xmx512m} (one DIR per model).
 * {@code --dir} keeps the checkpoint there (written once, reused); {@code --child-classpath} loads with other
 * classes (e.g. an older build first, then this one for the child's main) to measure "before"; the exit status is 1
 * when a load exceeds the bound or fails.
 */
public final class LoadBenchmark {
    private LoadBenchmark() {}

    /** ~297M parameters: 18 layers of width 1024 over a 32000-token vocabulary, untied head. */
    static final RandomCheckpoint.Sizes SIZES = new RandomCheckpoint.Sizes(32000, 1024, 2816, 18, 16, 16, false);

    /**
     * Issue #16's failing case: Llama-3's 128256 × 2048 embedding (tied), one thin layer, loaded under -Xmx512m; the
     * old loader's F32 staging buffer for that one tensor (1 GiB) exceeded the direct-memory limit.
     */
    static final RandomCheckpoint.Sizes LLAMA3_EMBEDDING = new RandomCheckpoint.Sizes(128256, 2048, 256, 1, 16, 8, true);

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            child(Path.of(args[1]), RuntimeConfig.ComputeType.valueOf(args[2]));
            return;
        }
        Path dir = null;
        String childCp = System.getProperty("java.class.path");
        String label = "this build";
        String xmx = null;
        RandomCheckpoint.Sizes sizes = SIZES;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--dir" -> dir = Path.of(args[++i]);
                case "--child-classpath" -> childCp = args[++i];
                case "--label" -> label = args[++i];
                case "--xmx" -> xmx = args[++i];
                case "--model" -> sizes = switch (args[++i]) {
                    case "llama-300m" -> SIZES;
                    case "llama3-embedding" -> LLAMA3_EMBEDDING;
                    default -> throw new IllegalArgumentException("unknown model " + args[i]
                            + " (llama-300m, llama3-embedding)");
                };
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (use --dir DIR, --child-classpath CP, --label NAME, --xmx SIZE, --model NAME)");
            }
        }
        if (xmx == null) {
            xmx = sizes == LLAMA3_EMBEDDING ? "512m" : "2g";
        }
        boolean temp = dir == null;
        if (temp) {
            dir = Files.createTempDirectory("labelscope-load-bench");
        }
        try {
            if (!Files.exists(dir.resolve("model.safetensors"))) {
                long t0 = System.nanoTime();
                RandomCheckpoint.write(dir, sizes, 7, io.labelscope.runtime.model.SafeTensors.DType.BF16);
                System.err.printf(Locale.ROOT, "wrote %s in %.1f s%n", dir, (System.nanoTime() - t0) / 1e9);
            }
            long fileBytes = Files.size(dir.resolve("model.safetensors"));
            long params = sizes.parameters();
            System.out.printf(Locale.ROOT, "Load benchmark %s, %s, load average %s: %,d parameters, BF16 file %.0f MiB, "
                            + "child JVM -Xmx%s%n%n", label, Instant.now(), RuntimeBenchmark.loadAverage(), params, fileBytes / 1048576.0,
                    xmx);
            System.out.println("| compute | load s | peak RSS MiB | RSS before load MiB | final weights MiB "
                    + "| bound 1.5 × (weights + file) MiB | peak / (weights + file) | within bound |");
            System.out.println("|---|---|---|---|---|---|---|---|");
            boolean ok = true;
            for (RuntimeConfig.ComputeType t : List.of(RuntimeConfig.ComputeType.F32, RuntimeConfig.ComputeType.F16)) {
                long weights = params * t.bytes;
                double bound = 1.5 * (weights + fileBytes);
                String[] r = runChild(childCp, xmx, dir, t);
                if (r.length == 1) {
                    System.out.printf(Locale.ROOT, "| %s | failed: %s | | | %.0f | %.0f | | **no** |%n", t, r[0],
                            weights / 1048576.0, bound / 1048576.0);
                    ok = false;
                    continue;
                }
                double seconds = Double.parseDouble(r[0]);
                long peak = Long.parseLong(r[1]) * 1024;
                long before = Long.parseLong(r[2]) * 1024;
                boolean within = peak <= bound;
                ok &= within;
                System.out.printf(Locale.ROOT, "| %s | %.1f | %.0f | %.0f | %.0f | %.0f | %.2f | %s |%n", t, seconds,
                        peak / 1048576.0, before / 1048576.0, weights / 1048576.0, bound / 1048576.0,
                        peak / (double) (weights + fileBytes), within ? "yes" : "**no**");
            }
            System.out.println();
            System.out.println("Load average at the end: " + RuntimeBenchmark.loadAverage());
            if (!ok) {
                System.exit(1);
            }
        } finally {
            if (temp) {
                try (var files = Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    /**
     * {seconds, VmHWM kB, VmRSS kB before the load}, or {the first exception line} when the child failed (its whole
     * output goes to stderr).
     */
    private static String[] runChild(String cp, String xmx, Path dir, RuntimeConfig.ComputeType t) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + xmx, "-cp", cp, LoadBenchmark.class.getName(), "--child", dir.toString(), t.name()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putIfAbsent("DJL_OFFLINE", "true");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
        }
        for (String line : out.split("\n")) {
            if (line.startsWith("RESULT ")) {
                return line.substring(7).trim().split(" ");
            }
        }
        System.err.println("child " + t + " failed:\n" + out);
        for (String line : out.split("\n")) {
            if (line.contains("Exception") || line.contains("Error")) {
                return new String[] {line.replace('|', '/').strip()};
            }
        }
        return new String[] {"exit status " + p.exitValue()};
    }

    /**
     * In the child: start the engine, note RSS, load, print {@code RESULT seconds peakKb beforeKb}. Uses only API
     * that older builds have too (so {@code --child-classpath} can put one first).
     */
    private static void child(Path dir, RuntimeConfig.ComputeType t) throws IOException {
        Engine.getEngine("PyTorch");
        long before = status("VmRSS:");
        long t0 = System.nanoTime();
        try (LlmModel m = LlmModel.load(dir, new RuntimeConfig("cpu", t, 1, 0))) {
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "RESULT %.2f %d %d%n", seconds, status("VmHWM:"), before);
        }
    }

    private static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
