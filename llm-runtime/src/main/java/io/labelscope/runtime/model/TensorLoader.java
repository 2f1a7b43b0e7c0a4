package io.labelscope.runtime.model;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.labelscope.runtime.ModelLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Copies checkpoint tensors into libtorch tensors of the compute type, a bounded chunk of rows at a time: the target
 * tensor is allocated once at its final size and type on the target device, and each chunk is read from the file
 * into one reused direct buffer, converted in Java if the types differ (BF16 → F16 directly, never through a
 * full-size F32 copy), and copied into its rows. Host memory beyond the final weights is two chunk buffers, whatever
 * the tensor's size, so a tensor larger than {@code -XX:MaxDirectMemorySize} or 2 GiB loads.
 *
 * <p>Never creates a BF16 NDArray on the CPU (that aborts the JVM on DJL's CPU build): BF16 is a target type only on
 * a GPU manager; its chunks cross to the device as F32 (exact for BF16 values) and are narrowed there.
 */
public final class TensorLoader implements AutoCloseable {

    /** Bytes of converted data per chunk; also bounds the read buffer. */
    public static final int DEFAULT_CHUNK_BYTES = 4 << 20;

    private final NDManager manager;
    private final DataType target;
    private final int chunkBytes;
    private final Map<Path, FileChannel> channels = new HashMap<>();
    private ByteBuffer readBuffer;
    private ByteBuffer convertBuffer;

    /**
     * @param manager owns the loaded tensors; its device is where they live
     * @param target FLOAT32, FLOAT16 or (GPU only) BFLOAT16
     */
    public TensorLoader(NDManager manager, DataType target) {
        this(manager, target, DEFAULT_CHUNK_BYTES);
    }

    public TensorLoader(NDManager manager, DataType target, int chunkBytes) {
        if (target != DataType.FLOAT32 && target != DataType.FLOAT16 && target != DataType.BFLOAT16) {
            throw new IllegalArgumentException("compute type must be FLOAT32, FLOAT16 or BFLOAT16, got " + target);
        }
        if (target == DataType.BFLOAT16 && !manager.getDevice().isGpu()) {
            throw new ModelLoadException("BF16 compute needs a GPU device (DJL's CPU build aborts on BF16 arrays); "
                    + "use F32 or F16 on " + manager.getDevice());
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new ModelLoadException("safetensors are little-endian; this " + ByteOrder.nativeOrder()
                    + " platform is not supported");
        }
        this.manager = manager;
        this.target = target;
        this.chunkBytes = Math.max(chunkBytes, 64);
    }

    /** Bytes a tensor takes once loaded in {@code target}. */
    public static long bytesIn(SafeTensors.Entry e, DataType target) {
        return Math.multiplyExact(e.elements(), (long) target.getNumOfBytes());
    }

    /**
     * Loads one tensor. A tensor that does not fit (Java heap/direct memory or libtorch allocation) fails with a
     * {@link ModelLoadException} naming it and the bytes it needs; its partial copy is freed.
     */
    public NDArray load(SafeTensors.Entry e) {
        long needed = bytesIn(e, target);
        NDArray out = null;
        try {
            out = manager.create(new Shape(e.shape()), target);
            long[] shape = e.shape();
            long rows = shape.length == 0 ? 1 : shape[0];
            long rowElements = rows == 0 ? 0 : e.elements() / rows;
            int widest = Math.max(e.dtype().bytes, target == DataType.BFLOAT16 ? 4 : target.getNumOfBytes());
            long rowsPerChunk = Math.max(1, chunkBytes / Math.max(1, rowElements * widest));
            if (rowsPerChunk * rowElements * widest > Integer.MAX_VALUE) {
                throw new ModelLoadException("tensor '" + e.name() + "' has rows of " + rowElements
                        + " elements, too wide to convert in one chunk");
            }
            FileChannel ch = channel(e.file());
            for (long r = 0; r < rows; r += rowsPerChunk) {
                long n = Math.min(rowsPerChunk, rows - r);
                int count = (int) (n * rowElements);
                ByteBuffer src = read(ch, e, e.begin() + r * rowElements * e.dtype().bytes, count * e.dtype().bytes);
                // BF16 crosses to the device as exact F32 and narrows there: no BF16 array ever exists on the host.
                DataType staged = target == DataType.BFLOAT16 ? DataType.FLOAT32 : target;
                ByteBuffer chunk = convert(src, e.dtype(), staged, count);
                long[] chunkShape = shape.length == 0 ? new long[0] : shape.clone();
                if (chunkShape.length > 0) {
                    chunkShape[0] = n;
                }
                // The chunk array views the reused buffer (CPU) or is copied to the device; either way it is
                // closed before the buffer is overwritten.
                try (NDArray part = manager.create(chunk, new Shape(chunkShape), staged);
                     NDArray typed = staged == target ? null : part.toType(target, false)) {
                    NDArray value = typed == null ? part : typed;
                    if (shape.length == 0) {
                        out.set(new NDIndex(), value);
                    } else {
                        out.set(new NDIndex().addSliceDim(r, r + n), value);
                    }
                }
            }
            return out;
        } catch (OutOfMemoryError | EngineException ex) {
            if (out != null) {
                out.close();
            }
            // Java memory running out is certain; a libtorch error here is almost always a failed allocation
            // (CUDA out of memory, DefaultCPUAllocator), but its own message says so or not.
            String what = ex instanceof OutOfMemoryError ? "not enough memory to load tensor '" : "cannot load tensor '";
            throw new ModelLoadException(what + e.name() + "' "
                    + java.util.Arrays.toString(e.shape()) + " " + e.dtype() + " from " + e.file().getFileName()
                    + " as " + target + " on " + manager.getDevice() + ": it needs " + describeBytes(needed)
                    + " (" + ex.getClass().getSimpleName() + ": " + ex.getMessage() + ")", ex);
        } catch (RuntimeException ex) {
            if (out != null) {
                out.close();
            }
            throw ex;
        }
    }

    private FileChannel channel(Path file) {
        FileChannel ch = channels.get(file);
        if (ch == null) {
            try {
                ch = FileChannel.open(file, StandardOpenOption.READ);
            } catch (IOException ex) {
                throw new ModelLoadException("cannot open " + file + ": " + ex.getMessage(), ex);
            }
            channels.put(file, ch);
        }
        return ch;
    }

    /** Reads {@code len} bytes at {@code pos} into the reused read buffer (little-endian, position 0). */
    private ByteBuffer read(FileChannel ch, SafeTensors.Entry e, long pos, int len) {
        readBuffer = ensure(readBuffer, len);
        ByteBuffer buf = readBuffer.clear().limit(len);
        try {
            while (buf.hasRemaining()) {
                int got = ch.read(buf, pos + buf.position());
                if (got < 0) {
                    throw new ModelLoadException(e.file() + ": unexpected end of file in tensor '" + e.name() + "'");
                }
            }
        } catch (IOException ex) {
            throw new ModelLoadException("cannot read tensor '" + e.name() + "' from " + e.file() + ": "
                    + ex.getMessage(), ex);
        }
        return buf.flip().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The chunk as {@code to} (F32 or F16): the read buffer itself when the types match, else the conversion buffer. */
    private ByteBuffer convert(ByteBuffer src, SafeTensors.DType from, DataType to, int count) {
        boolean same = (from == SafeTensors.DType.F32 && to == DataType.FLOAT32)
                || (from == SafeTensors.DType.F16 && to == DataType.FLOAT16);
        if (same) {
            return src;
        }
        int outBytes = count * to.getNumOfBytes();
        convertBuffer = ensure(convertBuffer, outBytes);
        ByteBuffer dst = convertBuffer.clear().limit(outBytes);
        for (int i = 0; i < count; i++) {
            float v = switch (from) {
                case F32 -> src.getFloat(i * 4);
                case F16 -> HalfFloats.toFloat(src.getShort(i * 2));
                case BF16 -> HalfFloats.bf16ToFloat(src.getShort(i * 2));
            };
            if (to == DataType.FLOAT32) {
                dst.putFloat(i * 4, v);
            } else {
                dst.putShort(i * 2, HalfFloats.fromFloat(v));
            }
        }
        return dst;
    }

    /** A direct little-endian buffer of at least {@code len} bytes, reusing {@code b} when it is large enough. */
    private ByteBuffer ensure(ByteBuffer b, int len) {
        if (b != null && b.capacity() >= len) {
            return b;
        }
        // Allocated once per load at chunk size; larger only for a single row wider than a chunk.
        return ByteBuffer.allocateDirect(Math.max(len, chunkBytes)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** "1.50 GiB (1610612736 bytes)". */
    public static String describeBytes(long bytes) {
        return String.format(Locale.ROOT, "%.2f GiB (%d bytes)", bytes / (double) (1L << 30), bytes);
    }

    @Override
    public void close() {
        for (FileChannel ch : channels.values()) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // read-only channel: nothing to flush
            }
        }
        channels.clear();
        readBuffer = null;
        convertBuffer = null;
    }
}
