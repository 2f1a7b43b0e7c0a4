package io.labelscope.runtime.bench;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Runs Jlama 0.8.4 ({@code llm-runtime/src/test/jlama/JlamaPeer.java}, source-file mode) in a Java 21+ child JVM on
 * this JVM's class path (Jlama is a test-scope dependency, so the class path must include it: the module's
 * {@code dependency:build-classpath} does). Used by the Jlama peer test and by the benchmark's side-by-side rows.
 */
public final class JlamaRunner {

    /** What one run printed: prefill and decode throughput (decode NaN when no decode steps were asked for). */
    public record Result(double prefillTokensPerSecond, double decodeTokensPerSecond, String log) {}

    private JlamaRunner() {}

    /**
     * A Java 21+ launcher: {@code -Dlabelscope.java21.home}, {@code LABELSCOPE_JAVA21_HOME}, Temurin 25, then any
     * JDK under /usr/lib/jvm.
     */
    public static Optional<Path> java21() {
        List<String> candidates = new ArrayList<>();
        candidates.add(System.getProperty("labelscope.java21.home", ""));
        candidates.add(Optional.ofNullable(System.getenv("LABELSCOPE_JAVA21_HOME")).orElse(""));
        candidates.add("/usr/lib/jvm/temurin-25-jdk-amd64");
        File[] jvms = new File("/usr/lib/jvm").listFiles();
        if (jvms != null) {
            Arrays.stream(jvms).map(File::getPath).sorted().forEach(candidates::add);
        }
        for (String c : candidates) {
            if (c.isBlank()) {
                continue;
            }
            Path java = Path.of(c, "bin", "java");
            if (Files.isExecutable(java) && featureVersion(java) >= 21) {
                return Optional.of(java);
            }
        }
        return Optional.empty();
    }

    static int featureVersion(Path java) {
        try {
            Process p = new ProcessBuilder(java.toString(), "-XshowSettings:properties", "-version")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor(30, TimeUnit.SECONDS);
            for (String line : out.split("\n")) {
                String l = line.strip();
                if (l.startsWith("java.specification.version = ")) {
                    return Integer.parseInt(l.substring("java.specification.version = ".length()).strip());
                }
            }
        } catch (Exception e) {
            return -1;
        }
        return -1;
    }

    /** JlamaPeer.java from the repository root or from the module directory, or empty. */
    public static Optional<Path> peerSource() {
        for (String p : new String[] {"llm-runtime/src/test/jlama/JlamaPeer.java", "src/test/jlama/JlamaPeer.java"}) {
            Path f = Path.of(p).toAbsolutePath();
            if (Files.isRegularFile(f)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /**
     * Runs the peer on {@code tokens} (one batched prefill, their logits written little-endian F32 [T][vocab] to
     * {@code logitsOut}) then {@code decodeSteps} greedy steps, with {@code threads} threads.
     */
    public static Result run(Path java, Path modelDir, int[] tokens, int threads, int decodeSteps, Path logitsOut)
            throws Exception {
        String cp = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("surefire"))
                .collect(Collectors.joining(File.pathSeparator));
        Path source = peerSource().orElseThrow(() -> new IllegalStateException(
                "JlamaPeer.java not found: run from the repository root or the llm-runtime directory"));
        List<String> cmd = List.of(java.toString(), "--add-modules", "jdk.incubator.vector", "--enable-preview",
                "--source", Integer.toString(featureVersion(java)), "-cp", cp, "-Xmx2g", source.toString(),
                modelDir.toString(), Arrays.stream(tokens).mapToObj(Integer::toString).collect(Collectors.joining(",")),
                Integer.toString(threads), logitsOut.toString(), Integer.toString(decodeSteps));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("jlama peer did not finish in 300 s; output:\n" + log);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException("jlama peer exit status " + p.exitValue() + "; output:\n" + log);
        }
        return new Result(rate(log, "jlama prefill"), rate(log, "jlama decode"), log);
    }

    /** The "(N tok/s)" figure of the line starting with {@code prefix}, NaN if absent. */
    private static double rate(String log, String prefix) {
        for (String line : log.split("\n")) {
            if (line.startsWith(prefix)) {
                int open = line.lastIndexOf('(');
                return Double.parseDouble(line.substring(open + 1, line.indexOf(" tok/s", open)));
            }
        }
        return Double.NaN;
    }
}
