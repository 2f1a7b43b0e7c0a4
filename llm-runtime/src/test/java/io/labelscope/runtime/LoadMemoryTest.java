package io.labelscope.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.labelscope.runtime.model.HalfFloats;
import io.labelscope.runtime.model.SafeTensors;
import io.labelscope.runtime.model.TensorLoader;
import io.labelscope.runtime.testing.Fixtures;
import io.labelscope.runtime.testing.LoadProbe;
import io.labelscope.runtime.testing.ReferenceLlama;
import io.labelscope.runtime.testing.TinyCheckpoint;
import io.labelscope.runtime.testing.TinyCheckpoint.FileType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading converts tensor by tensor in bounded chunks: no full-size staging buffer (a tensor larger than the direct
 * memory limit loads), a load that cannot get memory fails with a {@link ModelLoadException} naming the tensor and
 * leaves nothing open, and tensors of 2 GiB or more load without int overflow. The peak-RSS bound is checked by the
 * load benchmark ({@code bench.LoadBenchmark}), not here.
 */
class LoadMemoryTest {

    @TempDir
    Path tmp;

    /** A Llama whose BF16 embedding is 16 MiB in the file and 32 MiB once widened to F32. */
    private TinyCheckpoint bigEmbedding(Path dir) throws Exception {
        TinyCheckpoint.Spec spec = new TinyCheckpoint.Spec("LlamaForCausalLM", 65536, 128, 64, 1, 4, 2, 32, 10000.0,
                true, 0, 1e-5, 3, 0.15);
        TinyCheckpoint ck = new TinyCheckpoint(spec).roundTo(FileType.BF16);
        ck.write(dir, FileType.BF16, 1, Fixtures.tokenizer());
        return ck;
    }

    @Test
    void aTensorLargerThanTheDirectMemoryLimitLoadsAndComputesTheSameLogits() throws Exception {
        Path dir = tmp.resolve("big");
        TinyCheckpoint ck = bigEmbedding(dir);
        int[] tokens = {0, 65535, 300, 40000, 7};
        Path out = tmp.resolve("logits.bin");
        // 12 MiB of direct memory: a third of the F32 embedding, room for the loader's two 4 MiB chunk buffers.
        String log = LoadProbe.run(List.of("-Xmx256m", "-XX:MaxDirectMemorySize=12m"), dir, "F32", tokens, out);
        assertThat(log).as("probe output").contains("LOADED");
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        float[] got = new float[b.remaining() / 4];
        b.asFloatBuffer().get(got);
        double[] want = new ReferenceLlama(ck).logits(tokens)[tokens.length - 1];
        assertThat(Fixtures.relErr(got, want)).isLessThan(1e-4);
    }

    @Test
    void noMemoryForATensorIsAModelLoadExceptionNamingItAndNothingStaysOpen() throws Exception {
        Path dir = tmp.resolve("big");
        bigEmbedding(dir);
        // 1 MiB of direct memory cannot hold even one chunk buffer: the first tensor cannot be staged.
        String log = LoadProbe.run(List.of("-Xmx256m", "-XX:MaxDirectMemorySize=1m"), dir, "F16", new int[] {0},
                tmp.resolve("unused.bin"));
        assertThat(log).as("probe output").contains("FAILED not enough memory to load tensor 'model.embed_tokens.weight'")
                .contains("[65536, 128] BF16").contains("as float16").contains("it needs 0.02 GiB (16777216 bytes)")
                .contains("OPEN_ARRAYS 0");
    }

    /** A BF16 tensor of 2^29 + 2^10 elements: 1 GiB in the (sparse) file, 2 GiB + 4 KiB as F32. */
    @Test
    void aTensorOfMoreThanTwoGibLoadsWithoutOverflow() throws Exception {
        long rows = (1L << 19) + 1;
        long cols = 1024;
        Path file = tmp.resolve("huge.safetensors");
        long dataBytes = rows * cols * 2;
        byte[] header = ("{\"w\":{\"dtype\":\"BF16\",\"shape\":[" + rows + "," + cols + "],\"data_offsets\":[0,"
                + dataBytes + "]}}").getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + header.length;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
            ch.write(ByteBuffer.wrap(header));
            // Marks in the first row, past the 2^31-byte boundary of the F32 copy, and in the very last element.
            mark(ch, dataStart, 0, 1.5f);
            mark(ch, dataStart, (1L << 29) + 5, -2.25f);
            mark(ch, dataStart, rows * cols - 1, 3.0f);
        }
        SafeTensors.Entry e = new SafeTensors.Entry("w", file, SafeTensors.DType.BF16, new long[] {rows, cols},
                dataStart, dataStart + dataBytes);
        try (NDManager m = NDManager.newBaseManager("PyTorch");
             TensorLoader loader = new TensorLoader(m, DataType.FLOAT32)) {
            assertThat(TensorLoader.bytesIn(e, DataType.FLOAT32)).isEqualTo((2L << 30) + 4096);
            NDArray w = loader.load(e);
            assertThat(w.getShape().getShape()).containsExactly(rows, cols);
            assertThat(w.get(new NDIndex("0, 0")).getFloat()).isEqualTo(1.5f);
            assertThat(w.get(new NDIndex((1L << 29) / cols + ", 5")).getFloat()).isEqualTo(-2.25f);
            assertThat(w.get(new NDIndex((rows - 1) + ", " + (cols - 1))).getFloat()).isEqualTo(3.0f);
            assertThat(w.get(new NDIndex((rows - 1) + ", " + (cols - 2))).getFloat()).isZero();
        }
    }

    private static void mark(FileChannel ch, long dataStart, long element, float value) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN)
                .putShort(0, (short) HalfFloats.bf16(value));
        ch.write(b, dataStart + element * 2);
    }

    @Test
    void bf16FilesConvertStraightToF16() throws Exception {
        Path dir = tmp.resolve("half");
        TinyCheckpoint ck = new TinyCheckpoint(TinyCheckpoint.tiny(Fixtures.VOCAB)).roundTo(FileType.BF16);
        ck.write(dir, FileType.BF16, 2, Fixtures.tokenizer());
        try (LlmModel m = LlmModel.load(dir, RuntimeConfig.cpu().withDtype(RuntimeConfig.ComputeType.F16))) {
            assertThat(m.lm().dataType()).isEqualTo(DataType.FLOAT16);
            // Every weight is the F16 nearest to the stored BF16 value.
            SafeTensors st = SafeTensors.open(dir);
            try (TensorLoader l = new TensorLoader(m.manager(), DataType.FLOAT16)) {
                NDArray q = l.load(st.entry("model.layers.1.self_attn.q_proj.weight"));
                float[] want = ck.weights.get("model.layers.1.self_attn.q_proj.weight");
                float[] got = q.toType(DataType.FLOAT32, false).toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    assertThat(got[i]).isEqualTo(HalfFloats.toFloat(HalfFloats.fromFloat(want[i])));
                }
            }
        }
    }

    @Test
    void bf16ComputeIsRefusedOnCpu() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new RuntimeConfig("cpu", RuntimeConfig.ComputeType.BF16,
                        1, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BF16 compute needs a GPU");
    }
}
