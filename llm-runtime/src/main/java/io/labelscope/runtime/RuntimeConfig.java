package io.labelscope.runtime;

import java.util.Objects;

/**
 * Where and how a model runs.
 *
 * @param device "cpu" or "gpu" / "gpu:N" (DJL device names)
 * @param dtype compute and storage type of the weights: F32 or F16 (BF16 checkpoints are widened while loading)
 * @param maxBatchSize how many sequences decode together; larger inputs are split into chunks
 * @param threads libtorch intra-op threads; 0 = libtorch default. Applies only if set before the engine starts.
 */
public record RuntimeConfig(String device, ComputeType dtype, int maxBatchSize, int threads) {

    /** Weight/activation type. */
    public enum ComputeType { F32, F16 }

    public RuntimeConfig {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(dtype, "dtype");
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize must be >= 1, got " + maxBatchSize);
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
