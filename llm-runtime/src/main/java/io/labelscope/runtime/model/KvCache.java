package io.labelscope.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Arrays;

/**
 * Keys and values of every layer for a batch of sequences, plus the token position held by each slot ({@code -1} =
 * padding, never attended to). Owns its own {@link NDManager}; close it.
 *
 * <p>Storage: two preallocated buffers per layer, keys and values, {@code [batch, kvHeads, capacity, headDim]} each.
 * A step writes its slots in place and reads views of the filled part, so a decode step costs the same copying at
 * context 2,048 as at 128 (growing by concatenation copied the whole cache every step, O(S²) per sequence). Keys
 * and values are separate arrays, not one {@code [batch, 2 * kvHeads, ...]} buffer (one write call instead of two),
 * because a view of the keys of such a buffer cannot be flattened to {@code [batch * kvHeads, S, headDim]}: batched
 * matmul would copy it every layer at every step once the batch has more than one row. When a write would pass the
 * capacity the buffer is replaced by one of 1.5× the size (amortised O(1)
 * per slot); {@link #reserve} sizes it up front when the caller knows the final length (the decoder does).
 *
 * <p>While gradients are recorded (the demo model trains through this forward pass) writes concatenate instead: an
 * in-place write into a buffer that an earlier matmul saved for its backward pass would fail autograd's version
 * check. Decoding never records gradients.
 */
public final class KvCache implements AutoCloseable {
    /** Slots allocated beyond what is asked for when nothing is reserved: a few decode steps' worth. */
    private static final int HEADROOM = 64;

    private final NDManager manager;
    private final NDArray[] kv;
    private int batch;
    private long[][] slotPositions;
    /** Slots whose keys and values are written (every layer alike once a forward pass has finished). */
    private int stored;
    private int reserved;

    KvCache(NDManager parent, int layers, int batch) {
        this.manager = parent.newSubManager();
        this.kv = new NDArray[2 * layers]; // keys of layer l at 2l, values at 2l + 1
        this.batch = batch;
        this.slotPositions = new long[batch][0];
    }

    public int batchSize() {
        return batch;
    }

    public int length() {
        return slotPositions[0].length;
    }

    /** Slots the buffers hold before they must grow (0 before the first write). */
    public int capacity() {
        return kv[0] == null ? 0 : (int) kv[0].getShape().get(2);
    }

    /**
     * Makes room for {@code totalSlots} slots in all (positions already held included), so writes up to that length
     * never reallocate. Grows the buffers now if they exist, else sizes their first allocation.
     */
    public void reserve(int totalSlots) {
        reserved = Math.max(reserved, totalSlots);
        if (kv[0] != null && capacity() < totalSlots) {
            for (int l = 0; l < kv.length; l++) {
                kv[l] = regrow(kv[l], stored, totalSlots);
            }
        }
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

    /**
     * Writes a step's keys and values {@code [batch, kvHeads, t, headDim]} of one layer after the {@code at} slots
     * already stored; returns views of all filled slots, keys {@code [batch, kvHeads, S, headDim]} and values
     * alike, owned by {@code scope} (with the views made on the way; closing them leaves the buffers).
     */
    NDArray[] append(int layer, NDArray keys, NDArray values, int at, NDManager scope) {
        int filled = at + (int) keys.getShape().get(2);
        NDArray[] views = {write(2 * layer, keys, at, filled, scope), write(2 * layer + 1, values, at, filled, scope)};
        if (layer == kv.length / 2 - 1) {
            stored = filled;
        }
        return views;
    }

    /** Writes slots [at, filled) of buffer i; returns a view of its slots [0, filled) owned by scope. */
    private NDArray write(int i, NDArray part, int at, int filled, NDManager scope) {
        Shape shape = part.getShape();
        NDArray buf = kv[i];
        if (JniUtils.isGradMode()) {
            NDArray n;
            if (buf == null) {
                n = part.mul(1f);
            } else if (buf.getShape().get(2) == at) {
                n = buf.concat(part, 2);
            } else { // a buffer allocated with room (reserve, or filled before recording began): its slots [0, at)
                try (NDArray held = buf.get(new NDIndex("..., :" + at + ", :"))) {
                    n = held.concat(part, 2);
                }
            }
            n.attach(manager);
            if (buf != null) {
                buf.close();
            }
            buf = n;
        } else {
            if (buf == null) {
                int cap = Math.max(reserved, filled + HEADROOM);
                buf = manager.zeros(new Shape(shape.get(0), shape.get(1), cap, shape.get(3)), part.getDataType());
            } else if (buf.getShape().get(2) < filled) {
                buf = regrow(buf, at, Math.max(filled + HEADROOM, (int) (buf.getShape().get(2) * 3 / 2)));
            }
            // "..., a:b, :" is two aten::slice calls; ":, :, a:b" (or addAllDim(2)) would be three.
            buf.set(new NDIndex("..., " + at + ":" + filled + ", :"), part);
        }
        kv[i] = buf;
        // One split call, not slicing: an index over three dimensions is three aten::slice calls.
        NDList slots = buf.split(new long[] {filled}, 2);
        slots.attach(scope);
        return slots.get(0);
    }

    /** A buffer of {@code capacity} slots holding the first {@code filled} slots of {@code old}; closes old. */
    private NDArray regrow(NDArray old, int filled, int capacity) {
        Shape s = old.getShape();
        NDArray n = manager.zeros(new Shape(s.get(0), s.get(1), capacity, s.get(3)), old.getDataType());
        NDIndex part = new NDIndex().addAllDim(2).addSliceDim(0, filled);
        try (NDArray src = old.get(part)) {
            n.set(part, src);
        }
        old.close();
        return n;
    }

    /**
     * A new cache of {@code n} rows, each a copy of this single-row cache (shared-prefix reuse), owned by a
     * sub-manager of {@code parent}, with room for {@code extraSlots} more slots before it grows.
     */
    public KvCache expand(NDManager parent, int n, int extraSlots) {
        if (batch != 1) {
            throw new IllegalStateException("only a single-sequence cache can be expanded, this one has " + batch);
        }
        KvCache c = new KvCache(parent, kv.length / 2, n);
        int len = stored;
        c.stored = len;
        c.reserved = len + extraSlots;
        NDIndex part = new NDIndex().addAllDim(2).addSliceDim(0, len);
        for (int l = 0; l < kv.length; l++) {
            if (kv[l] == null) {
                continue;
            }
            try (NDArray src = kv[l].get(part)) {
                if (JniUtils.isGradMode()) {
                    c.kv[l] = src.repeat(0, n);
                    c.kv[l].attach(c.manager);
                } else {
                    Shape s = kv[l].getShape();
                    c.kv[l] = c.manager.zeros(new Shape(n, s.get(1), len + Math.max(extraSlots, HEADROOM), s.get(3)),
                            kv[l].getDataType());
                    c.kv[l].set(part, src); // broadcasts the one row over n
                }
            }
        }
        for (int b = 0; b < n; b++) {
            c.slotPositions[b] = slotPositions[0].clone();
        }
        return c;
    }

    /** {@link #expand(NDManager, int, int)} with room for a few steps; later writes grow it as needed. */
    public KvCache expand(NDManager parent, int n) {
        return expand(parent, n, HEADROOM);
    }

    /**
     * Keeps only the given rows (in that order), e.g. to drop finished sequences from a decoding batch. Copies each
     * layer's buffer once.
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
            for (int l = 0; l < kv.length; l++) {
                if (kv[l] == null) {
                    continue;
                }
                NDArray n = kv[l].get(new NDIndex("{}", index));
                n.attach(manager);
                kv[l].close();
                kv[l] = n;
            }
        }
        slotPositions = pos;
        batch = rows.length;
    }

    /**
     * Repeats row {@code i} {@code counts[i]} times, rows in order (a document's prefix becomes one row per probe of
     * that document). Copies each layer's buffer once.
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

    /** NDArrays open under this cache's manager: two buffers per layer once filled (for leak checks). */
    public int openArrays() {
        return manager instanceof ai.djl.ndarray.BaseNDManager b ? b.getManagedArrays().size() : -1;
    }

    @Override
    public void close() {
        manager.close();
    }
}
