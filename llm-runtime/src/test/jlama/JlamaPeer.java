import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.UUID;

/**
 * Peer check helper, run by JlamaPeerTest in a Java 21+ child process (source-file mode, Jlama on the class path):
 * loads the checkpoint in F32 with Jlama 0.8.4, runs the given token ids in one batchForward, and writes the raw
 * logits of every position (sample() at temperature 0 leaves raw logits in the dense tensor; getLogits would give
 * probabilities) as little-endian float32 [T][vocab]. Prints timings.
 *
 * Args: modelDir tokenIdsCsv threads outFile [decodeSteps]
 */
public class JlamaPeer {
    public static void main(String[] a) throws Exception {
        File dir = new File(a[0]);
        int[] toks = Arrays.stream(a[1].split(",")).mapToInt(Integer::parseInt).toArray();
        int threads = Integer.parseInt(a[2]);
        Path out = Path.of(a[3]);
        int decode = a.length > 4 ? Integer.parseInt(a[4]) : 0;
        AbstractModel m = ModelSupport.loadModel(dir, null, DType.F32, DType.F32, Optional.empty(), Optional.of(threads));
        int vocab = m.getConfig().vocabularySize;
        try (KvBufferCache cache = new KvBufferCache(m)) {
            KvBufferCache.KvBuffer kv = cache.getKvBuffer(UUID.randomUUID());
            long t0 = System.nanoTime();
            AbstractTensor hidden = m.batchForward(toks, 0, kv);
            long t1 = System.nanoTime();
            ByteBuffer bb = ByteBuffer.allocate(toks.length * vocab * 4).order(ByteOrder.LITTLE_ENDIAN);
            AbstractTensor logits = m.makeDenseTensor(vocab);
            int next = 0;
            for (int i = 0; i < toks.length; i++) {
                next = m.sample(hidden.slice(i), 0f, 0f, logits);
                for (int v = 0; v < vocab; v++) {
                    bb.putFloat(logits.dims() == 1 ? logits.get(v) : logits.get(0, v));
                }
            }
            Files.write(out, bb.array());
            System.out.printf("jlama prefill %d tokens in %.1f ms (%.1f tok/s)%n", toks.length, (t1 - t0) / 1e6,
                    toks.length / ((t1 - t0) / 1e9));
            if (decode > 0) {
                long d0 = System.nanoTime();
                for (int s = 0; s < decode; s++) {
                    AbstractTensor h = m.forward(next, toks.length + s, kv, Optional.empty());
                    next = m.sample(h, 0f, 0f, logits);
                }
                long d1 = System.nanoTime();
                System.out.printf("jlama decode %d tokens in %.1f ms (%.1f tok/s)%n", decode, (d1 - d0) / 1e6,
                        decode / ((d1 - d0) / 1e9));
            }
        }
        m.close();
    }
}
