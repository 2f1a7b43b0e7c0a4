package io.labelscope.runtime.testing;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.ModelLoadException;
import io.labelscope.runtime.RuntimeConfig;
import io.labelscope.runtime.model.KvCache;
import java.io.DataOutputStream;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A child JVM that loads one checkpoint under the memory flags its parent test chose (e.g. a small
 * {@code -XX:MaxDirectMemorySize}) and reports: {@code LOADED} and the last-position logits of the given tokens
 * (little-endian floats in the output file), or {@code FAILED <ModelLoadException message>} and how many NDArrays
 * stayed open anywhere under the engine.
 */
public final class LoadProbe {
    private LoadProbe() {}

    /** args: checkpoint dir, compute type, comma-separated token ids, output file. */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        RuntimeConfig rc = RuntimeConfig.cpu().withDtype(RuntimeConfig.ComputeType.valueOf(args[1]));
        String[] ids = args[2].split(",");
        long[][] row = new long[1][ids.length];
        for (int i = 0; i < ids.length; i++) {
            row[0][i] = Long.parseLong(ids[i]);
        }
        try (LlmModel m = LlmModel.load(dir, rc);
             NDManager step = m.manager().newSubManager();
             KvCache cache = m.lm().newCache(m.manager(), 1)) {
            float[] logits = m.lm().forward(step, row, cache, true).toFloatArray();
            try (DataOutputStream out = new DataOutputStream(Files.newOutputStream(Path.of(args[3])))) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(logits.length * 4)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (float f : logits) {
                    b.putFloat(f);
                }
                out.write(b.array());
            }
            System.out.println("LOADED");
        } catch (ModelLoadException e) {
            System.out.println("FAILED " + e.getMessage());
            try (NDManager probe = NDManager.newBaseManager("PyTorch")) {
                System.out.println("OPEN_ARRAYS " + ((BaseNDManager) probe.getParentManager()).getManagedArrays().size());
            }
        }
    }

    /** Output of a probe run in a child JVM with {@code jvmFlags}; fails if it does not exit within 120 s. */
    public static String run(List<String> jvmFlags, Path dir, String dtype, int[] tokens, Path out) throws Exception {
        return runMain(LoadProbe.class, jvmFlags, List.of(dir.toString(), dtype,
                java.util.Arrays.stream(tokens).mapToObj(Integer::toString)
                        .collect(java.util.stream.Collectors.joining(",")), out.toString()));
    }

    /**
     * Output (stdout and stderr) of {@code main} run in a child JVM on this class path with {@code jvmFlags} and one
     * libtorch thread; fails if it does not exit within 120 s.
     */
    public static String runMain(Class<?> main, List<String> jvmFlags, List<String> args) throws Exception {
        String cp = java.util.stream.Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.contains("surefire"))
                .collect(java.util.stream.Collectors.joining(File.pathSeparator));
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmFlags);
        cmd.add("-Dai.djl.pytorch.num_threads=1");
        cmd.add("-Dai.djl.pytorch.num_interop_threads=1");
        cmd.addAll(List.of("-cp", cp, main.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(main.getSimpleName() + " did not finish; output:\n" + log);
        }
        return log;
    }
}
