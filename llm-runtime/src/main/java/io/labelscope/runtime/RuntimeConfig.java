package io.labelscope.runtime;

import java.util.Objects;

/**
 * Where and how a model runs.
 *
 * @param device "cpu" or "gpu" / "gpu:N" (DJL device names)
 * @param dtype compute and storage type of the weights: F32, F16, or BF16 on a GPU only. Checkpoint tensors are
 *     converted while loading, a chunk at a time (BF16 files to F16 directly); softmax and RMSNorm run in F32.
 * @param maxBatchSize how many sequences decode together; larger inputs are split into chunks
 * @param threads libtorch intra-op threads; 0 = libtorch default. Applies only if set before the engine starts.
 */
public record RuntimeConfig(String device, ComputeType dtype, int maxBatchSize, int threads) {

    /** Weight/activation type. BF16 needs a GPU: DJL's CPU build aborts the JVM on BF16 arrays. */
    public enum ComputeType {
        F32(4), F16(2), BF16(2);

        /** Bytes per weight. */
        public final int bytes;

        ComputeType(int bytes) {
            this.bytes = bytes;
        }
    }

    public RuntimeConfig {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(dtype, "dtype");
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
        }
        if (dtype == ComputeType.BF16 && !device.startsWith("gpu")) {
            throw new IllegalArgumentException("BF16 compute needs a GPU device (gpu or gpu:N), got '" + device
                    + "': DJL's CPU build aborts the JVM on BF16 arrays; use F32 or F16");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }
    }

    /** CPU, F32, batches of up to 32. */
    public static RuntimeConfig cpu() {
        return new RuntimeConfig("cpu", ComputeType.F32, 32, 0);
    }

    public RuntimeConfig withDtype(ComputeType t) {
        return new RuntimeConfig(device, t, maxBatchSize, threads);
    }

    public RuntimeConfig withMaxBatchSize(int n) {
        return new RuntimeConfig(device, dtype, n, threads);
    }
}
