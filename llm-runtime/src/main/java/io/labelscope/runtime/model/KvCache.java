package io.labelscope.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;

/**
 * Keys and values of every layer for a batch of sequences, [batch, kvHeads, slots, headDim] each, plus the token
 * position held by each slot ({@code -1} = padding, never attended to). Owns its own {@link NDManager}; close it.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int batch;
    private long[][] slotPositions;

    KvCache(NDManager parent, int layers, int batch) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.batch = batch;
        this.slotPositions = new long[batch][0];
    }

    public int batchSize() {
        return batch;
    }

    public int length() {
        return slotPositions[0].length;
    }

    /** Positions held by the slots of sequence {@code b}; -1 marks padding. */
    public long[] slotPositions(int b) {
        return slotPositions[b].clone();
    }

    /** Position the next token of sequence {@code b} gets: one more than its last real slot. */
    public long nextPosition(int b) {
        long max = -1;
        for (long p : slotPositions[b]) {
            max = Math.max(max, p);
        }
        return max + 1;
    }

    /** Adds slots for new tokens; called before the layers run so the mask covers them. */
    void appendPositions(long[][] newPositions) {
        for (int b = 0; b < batch; b++) {
            long[] old = slotPositions[b];
            long[] add = newPositions[b];
            long[] n = Arrays.copyOf(old, old.length + add.length);
            System.arraycopy(add, 0, n, old.length, add.length);
            slotPositions[b] = n;
        }
    }

    /** Appends along the slot axis; returns the full keys/values for the layer (owned by this cache). */
    NDArray[] append(int layer, NDArray k, NDArray v) {
        keys[layer] = cat(keys[layer], k);
        values[layer] = cat(values[layer], v);
        return new NDArray[] {keys[layer], values[layer]};
    }

    private NDArray cat(NDArray old, NDArray add) {
        NDArray n;
        if (old == null) {
            // duplicate() copies outside the autograd graph: while gradients are recorded (inside a
            // GradientCollector: the demo model trains through this forward pass) copy inside the graph instead,
            // or the keys/values get no gradient. Decoding never records, so it is unchanged.
            n = ai.djl.pytorch.jni.JniUtils.isGradMode() ? add.mul(1f) : add.duplicate();
        } else {
            n = old.concat(add, 2);
            old.close();
        }
        n.attach(manager);
        return n;
    }

    /**
     * A new cache of {@code n} rows, each a copy of this single-row cache (shared-prefix reuse), owned by a
     * sub-manager of {@code parent}.
     */
    public KvCache expand(NDManager parent, int n) {
        if (batch != 1) {
            throw new IllegalStateException("only a single-sequence cache can be expanded, this one has " + batch);
        }
        KvCache c = new KvCache(parent, keys.length, n);
        for (int l = 0; l < keys.length; l++) {
            c.keys[l] = keys[l].repeat(0, n);
            c.keys[l].attach(c.manager);
            c.values[l] = values[l].repeat(0, n);
            c.values[l].attach(c.manager);
        }
        for (int b = 0; b < n; b++) {
            c.slotPositions[b] = slotPositions[0].clone();
        }
        return c;
    }

    /**
     * Keeps only the given rows (in that order), e.g. to drop finished sequences from a decoding batch. Copies each
     * layer's keys and values once.
     */
    public void keepRows(int[] rows) {
        long[] idx = new long[rows.length];
        long[][] pos = new long[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            idx[i] = rows[i];
            pos[i] = slotPositions[rows[i]];
        }
        try (NDManager tmp = manager.newSubManager()) {
            NDArray index = tmp.create(idx);
            for (int l = 0; l < keys.length; l++) {
                if (keys[l] == null) {
                    continue;
                }
                keys[l] = select(keys[l], index);
                values[l] = select(values[l], index);
            }
        }
        slotPositions = pos;
        batch = rows.length;
    }

    /**
     * Repeats row {@code i} {@code counts[i]} times, rows in order (a document's prefix becomes one row per probe of
     * that document). Copies each layer's keys and values once.
     */
    public void repeatRows(int[] counts) {
        if (counts.length != batch) {
            throw new IllegalArgumentException(counts.length + " counts for a cache of " + batch + " rows");
        }
        int total = 0;
        for (int c : counts) {
            if (c < 0) {
                throw new IllegalArgumentException("negative repeat count " + c);
            }
            total += c;
        }
        int[] rows = new int[total];
        int at = 0;
        for (int i = 0; i < counts.length; i++) {
            for (int j = 0; j < counts[i]; j++) {
                rows[at++] = i;
            }
        }
        keepRows(rows);
    }

    private NDArray select(NDArray a, NDArray index) {
        NDArray n = a.get(new ai.djl.ndarray.index.NDIndex("{}", index));
        n.attach(manager);
        a.close();
        return n;
    }

    /** NDArrays open under this cache's manager: two per layer once filled (for leak checks). */
    public int openArrays() {
        return manager instanceof ai.djl.ndarray.BaseNDManager b ? b.getManagedArrays().size() : -1;
    }

    @Override
    public void close() {
        manager.close();
    }
}
