package io.labelscope.runtime.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import io.labelscope.runtime.ModelLoadException;
import java.util.Arrays;
import java.util.Map;

/**
 * A Llama-family decoder (Llama 2/3, Mistral, Qwen 2) on DJL NDArray ops: weights in one {@link NDManager}, a
 * forward pass over a batch of left-padded token rows that appends to a {@link KvCache}.
 *
 * <p>Attention is composed from ops (there is no fused attention or RMSNorm kernel in DJL's JNI), so the cost of a
 * decode step on a small model is as much the number of libtorch calls (each 1.5-4.4 us of JNI and dispatch
 * bookkeeping, a kernel launch on a GPU) as the weights read. The layout is chosen for few calls, done once at load:
 * <ul>
 *   <li>q/k/v projections are one weight {@code [qDim + 2 kvDim, hidden]} (+ one bias for Qwen 2), gate/up one
 *       {@code [2 inter, hidden]}, each stored transposed as a contiguous {@code [in, out]} array, the layout
 *       {@code matmul} takes as it is (DJL's {@code Linear.linear} on {@code [out, in]} adds an {@code aten::t}
 *       call per projection; the output projection and down projection are stored the same way);</li>
 *   <li>the RMSNorm weights in front of them are folded into their columns ({@code (x/rms * w) W^T = (x/rms)
 *       (W diag w)^T}; one rounding of each product, within every reference tolerance), so a norm there is four
 *       calls; the final norm is applied as is (the tied embedding is shared with the input lookup);</li>
 *   <li>RoPE cos/sin tables are computed once (in double precision) for a length that grows by doubling; a forward
 *       pass gathers its positions' rows once and expands them to one factor per head of the fused q|k|v output:
 *       q heads times the attention scale 1/sqrt(headDim) (exact when headDim is a power of four, one rounding of
 *       cos*scale otherwise), k heads as they are, v heads cos 1 / sin 0. Every layer then rotates all heads in four
 *       calls ({@code x*cos + flip(x)*sin'}, the "rotate half" of transformers with its sign folded into sin') and
 *       applies no separate scale;</li>
 *   <li>keys and values of a step go into the preallocated cache with one in-place write each ({@link KvCache}).</li>
 * </ul>
 * Grouped-query attention runs as {@code [batch, kvHeads, groups * t, headDim]} against the cache's views with an
 * additive mask built from the cache's slot positions (causal + padding + optional sliding window), softmax in F32,
 * then output projection, residual, RMSNorm, SwiGLU MLP, residual.
 */
public final class CausalLm implements AutoCloseable {

    /**
     * One decoder layer's weights as the forward pass uses them, projections transposed to {@code [in, out]}
     * ({@code x.matMul(w)}). {@code attnNorm} / {@code mlpNorm} are null when
     * they are folded into {@code wQkv} / {@code wGateUp}; {@code bQkv} is null when the architecture has no bias.
     */
    record Layer(NDArray attnNorm, NDArray wQkv, NDArray bQkv, NDArray wo, NDArray mlpNorm, NDArray wGateUp,
                 NDArray wDown) {}

    /**
     * A layer's weights as the checkpoint names them, used as they are when training updates them in place
     * ({@link #fromTensors}): fused per forward pass (a differentiable concatenation), norms applied unfolded.
     */
    record SourceLayer(NDArray attnNorm, NDArray wq, NDArray bq, NDArray wk, NDArray bk, NDArray wv, NDArray bv,
                       NDArray wo, NDArray mlpNorm, NDArray wGate, NDArray wUp, NDArray wDown) {
        Layer fused(NDManager scope) {
            NDArray qkv = NDArrays.concat(new NDList(wq, wk, wv), 0);
            qkv.attach(scope);
            NDArray bias = null;
            if (bq != null) {
                bias = NDArrays.concat(new NDList(bq, bk, bv), 0);
                bias.attach(scope);
            }
            NDArray gateUp = NDArrays.concat(new NDList(wGate, wUp), 0);
            gateUp.attach(scope);
            NDArray[] views = {qkv.transpose(), wo.transpose(), gateUp.transpose(), wDown.transpose()};
            for (NDArray v : views) {
                v.attach(scope);
            }
            return new Layer(attnNorm, views[0], bias, views[1], mlpNorm, views[2], views[3]);
        }
    }

    /** Rows of the first RoPE table: positions up to this (or max_position_embeddings if smaller) up front. */
    private static final int INITIAL_ROPE_POSITIONS = 4096;

    private final ModelConfig cfg;
    private final NDManager manager;
    private final DataType dtype;
    private final NDArray embed;
    private final NDArray lmHead;
    private final NDArray finalNorm;
    /** Load-time fused layers, or null when built from training tensors. */
    private final Layer[] layers;
    private final SourceLayer[] sourceLayers;
    private final double[] inverseFrequencies;
    private final float scale;
    /** cos and sign-folded sin, [positions, headDim] in the compute type; replaced (never shrunk) as needed. */
    private NDArray[] ropeTables;

    private CausalLm(ModelConfig cfg, NDManager manager, DataType dtype, NDArray embed, NDArray lmHead,
                     NDArray finalNorm, Layer[] layers, SourceLayer[] sourceLayers) {
        this.cfg = cfg;
        this.manager = manager;
        this.dtype = dtype;
        this.embed = embed;
        this.lmHead = lmHead;
        this.finalNorm = finalNorm;
        this.layers = layers;
        this.sourceLayers = sourceLayers;
        this.inverseFrequencies = cfg.inverseFrequencies();
        this.scale = (float) (1.0 / Math.sqrt(cfg.headDim()));
        // Built now, not at the first forward pass, so the model's array count is constant once loaded.
        ropeTables(1);
    }

    /**
     * Loads and checks every tensor. On failure the manager handed in is left for the caller to close (it holds
     * whatever was loaded so far).
     */
    public static CausalLm load(ModelConfig cfg, SafeTensors st, NDManager manager, DataType dtype) {
        try (TensorLoader tensors = new TensorLoader(manager, dtype)) {
            return load(cfg, new Loader(st, tensors), st, manager, dtype);
        }
    }

    private static CausalLm load(ModelConfig cfg, Loader ld, SafeTensors st, NDManager manager, DataType dtype) {
        int h = cfg.hiddenSize();
        int qDim = cfg.numHeads() * cfg.headDim();
        int kvDim = cfg.numKvHeads() * cfg.headDim();
        int inter = cfg.intermediateSize();
        NDArray embed = ld.load("model.embed_tokens.weight", cfg.vocabSize(), h);
        NDArray lmHead;
        if (cfg.tieWordEmbeddings()) {
            lmHead = embed;
        } else if (st.has("lm_head.weight")) {
            lmHead = ld.load("lm_head.weight", cfg.vocabSize(), h);
        } else {
            throw new ModelLoadException("missing tensor 'lm_head.weight' in checkpoint (tie_word_embeddings is false)");
        }
        NDArray norm = ld.load("model.norm.weight", h);
        Layer[] layers = new Layer[cfg.numLayers()];
        boolean bias = cfg.attentionBias();
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            NDArray attnNorm = ld.load(p + "input_layernorm.weight", h);
            NDArray qkv = fuseRows(attnNorm, ld.load(p + "self_attn.q_proj.weight", qDim, h),
                    ld.load(p + "self_attn.k_proj.weight", kvDim, h), ld.load(p + "self_attn.v_proj.weight", kvDim, h));
            NDArray bQkv = bias ? fuseRows(null, ld.load(p + "self_attn.q_proj.bias", qDim),
                    ld.load(p + "self_attn.k_proj.bias", kvDim), ld.load(p + "self_attn.v_proj.bias", kvDim)) : null;
            NDArray wo = transposed(ld.load(p + "self_attn.o_proj.weight", h, qDim));
            NDArray mlpNorm = ld.load(p + "post_attention_layernorm.weight", h);
            NDArray gateUp = fuseRows(mlpNorm, ld.load(p + "mlp.gate_proj.weight", inter, h),
                    ld.load(p + "mlp.up_proj.weight", inter, h));
            layers[i] = new Layer(null, transposed(qkv), bQkv, wo, null, transposed(gateUp),
                    transposed(ld.load(p + "mlp.down_proj.weight", h, inter)));
        }
        return new CausalLm(cfg, manager, dtype, embed, lmHead, norm, layers, null);
    }

    /**
     * A contiguous {@code [in, out]} copy of an {@code [out, in]} weight (closes the original): the layout
     * {@code x.matMul(w)} reads row by row. DJL's {@code Linear.linear} on {@code [out, in]} issues an extra
     * {@code aten::t} call per projection; the flatten forces the copy (a reshape of a transposed view to the same
     * shape would keep its strides).
     */
    private static NDArray transposed(NDArray w) {
        long[] s = w.getShape().getShape();
        NDArray t = w.transpose().reshape(-1).reshape(s[1], s[0]);
        w.close();
        return t;
    }

    /**
     * Stacks weights along their output rows into one array and, when {@code norm} is given, folds that RMSNorm
     * weight into its input columns; closes the parts (and the norm), so a layer's peak is its parts plus the result.
     */
    private static NDArray fuseRows(NDArray norm, NDArray... parts) {
        NDArray fused = NDArrays.concat(new NDList(parts), 0);
        for (NDArray a : parts) {
            a.close();
        }
        if (norm != null) {
            NDArray folded = fused.mul(norm);
            fused.close();
            norm.close();
            fused = folded;
        }
        return fused;
    }

    /**
     * Builds the model on tensors already in memory, keyed by their Hugging Face names (as in a checkpoint), used as
     * they are (no copy): training attaches gradients to them and updates them in place. Shapes are checked against
     * {@code cfg}; every array must already have type {@code dtype}.
     */
    public static CausalLm fromTensors(ModelConfig cfg, Map<String, NDArray> tensors, NDManager manager,
                                       DataType dtype) {
        int h = cfg.hiddenSize();
        int qDim = cfg.numHeads() * cfg.headDim();
        int kvDim = cfg.numKvHeads() * cfg.headDim();
        int inter = cfg.intermediateSize();
        java.util.function.BiFunction<String, long[], NDArray> get = (name, shape) -> {
            NDArray a = tensors.get(name);
            if (a == null) {
                throw new ModelLoadException("missing tensor '" + name + "'");
            }
            if (!Arrays.equals(a.getShape().getShape(), shape) || a.getDataType() != dtype) {
                throw new ModelLoadException("tensor '" + name + "': expected " + Arrays.toString(shape) + " "
                        + dtype + ", found " + a.getShape() + " " + a.getDataType());
            }
            return a;
        };
        NDArray embed = get.apply("model.embed_tokens.weight", new long[] {cfg.vocabSize(), h});
        NDArray lmHead = cfg.tieWordEmbeddings() ? embed
                : get.apply("lm_head.weight", new long[] {cfg.vocabSize(), h});
        NDArray norm = get.apply("model.norm.weight", new long[] {h});
        SourceLayer[] layers = new SourceLayer[cfg.numLayers()];
        boolean bias = cfg.attentionBias();
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            layers[i] = new SourceLayer(
                    get.apply(p + "input_layernorm.weight", new long[] {h}),
                    get.apply(p + "self_attn.q_proj.weight", new long[] {qDim, h}),
                    bias ? get.apply(p + "self_attn.q_proj.bias", new long[] {qDim}) : null,
                    get.apply(p + "self_attn.k_proj.weight", new long[] {kvDim, h}),
                    bias ? get.apply(p + "self_attn.k_proj.bias", new long[] {kvDim}) : null,
                    get.apply(p + "self_attn.v_proj.weight", new long[] {kvDim, h}),
                    bias ? get.apply(p + "self_attn.v_proj.bias", new long[] {kvDim}) : null,
                    get.apply(p + "self_attn.o_proj.weight", new long[] {h, qDim}),
                    get.apply(p + "post_attention_layernorm.weight", new long[] {h}),
                    get.apply(p + "mlp.gate_proj.weight", new long[] {inter, h}),
                    get.apply(p + "mlp.up_proj.weight", new long[] {inter, h}),
                    get.apply(p + "mlp.down_proj.weight", new long[] {h, inter}));
        }
        return new CausalLm(cfg, manager, dtype, embed, lmHead, norm, null, layers);
    }

    /** Reads tensors from the checkpoint into NDArrays of the target type, checking shapes first. */
    private record Loader(SafeTensors st, TensorLoader tensors) {
        NDArray load(String name, long... expected) {
            SafeTensors.Entry e = st.entry(name);
            if (!Arrays.equals(e.shape(), expected)) {
                throw new ModelLoadException("shape mismatch for tensor '" + name + "' in " + e.file().getFileName()
                        + ": expected " + Arrays.toString(expected) + " from config.json, found "
                        + Arrays.toString(e.shape()));
            }
            return tensors.load(e);
        }
    }

    public ModelConfig config() {
        return cfg;
    }

    public DataType dataType() {
        return dtype;
    }

    public NDManager manager() {
        return manager;
    }

    /**
     * The arrays a decode step reads in full: every layer's weights, the final norm and the vocabulary projection
     * (the input embedding is read one row per token). Their bytes over the machine's read bandwidth is the
     * batch-1 decode roofline the benchmark compares against. Empty for a model built from training tensors.
     */
    public java.util.List<NDArray> decodeWeights() {
        java.util.List<NDArray> out = new java.util.ArrayList<>();
        if (layers == null) {
            return out;
        }
        for (Layer w : layers) {
            for (NDArray a : new NDArray[] {w.attnNorm(), w.wQkv(), w.bQkv(), w.wo(), w.mlpNorm(), w.wGateUp(),
                    w.wDown()}) {
                if (a != null) {
                    out.add(a);
                }
            }
        }
        out.add(finalNorm);
        out.add(lmHead);
        return out;
    }

    /** A new empty cache for {@code batch} sequences, owned by a sub-manager of {@code parent}. */
    public KvCache newCache(NDManager parent, int batch) {
        return new KvCache(parent, cfg.numLayers(), batch);
    }

    /**
     * Runs new tokens through the model, appending their keys/values to {@code cache}.
     *
     * @param step manager for this call's temporaries and result (close it after reading the logits)
     * @param tokens [batch][T] token ids, left-padded with negative ids; every row has the same T
     * @param lastOnly return logits of the last column only ([batch, vocab]) instead of [batch, T, vocab]
     * @return F32 logits owned by {@code step}
     */
    public NDArray forward(NDManager step, long[][] tokens, KvCache cache, boolean lastOnly) {
        NDArray x = hiddenStates(step, tokens, cache);
        if (lastOnly) {
            x = x.get(new NDIndex(":, -1, :"));
        }
        return logits(x);
    }

    /**
     * The same pass as {@link #forward} up to the final RMSNorm, without the vocabulary projection: [batch, T,
     * hidden] in the compute type, owned by {@code step}. Training projects only the positions it scores.
     */
    public NDArray hiddenStates(NDManager step, long[][] tokens, KvCache cache) {
        int b = tokens.length;
        int t = tokens[0].length;
        if (b != cache.batchSize()) {
            throw new IllegalArgumentException("batch " + b + " does not match cache batch " + cache.batchSize());
        }
        int past = cache.length();
        long[] ids = new long[b * t];
        long[] pos = new long[b * t];
        long[][] newPos = new long[b][t];
        long maxPos = 0;
        for (int i = 0; i < b; i++) {
            if (tokens[i].length != t) {
                throw new IllegalArgumentException("ragged token rows: left-pad them to one length");
            }
            long next = cache.nextPosition(i);
            for (int j = 0; j < t; j++) {
                long id = tokens[i][j];
                if (id >= cfg.vocabSize()) {
                    throw new IllegalArgumentException("token id " + id + " >= vocab_size " + cfg.vocabSize());
                }
                ids[i * t + j] = Math.max(id, 0);
                newPos[i][j] = id < 0 ? -1 : next++;
                pos[i * t + j] = Math.max(newPos[i][j], 0);
                maxPos = Math.max(maxPos, pos[i * t + j]);
            }
        }
        cache.appendPositions(newPos);
        int s = past + t;
        int nh = cfg.numHeads();
        int nkv = cfg.numKvHeads();
        int g = cfg.kvGroups();
        int d = cfg.headDim();
        int heads = nh + 2 * nkv;
        // One additive mask per distinct layer window (full attention = 0): Qwen2 mixes full and windowed layers.
        long[][] slots = new long[b][];
        for (int i = 0; i < b; i++) {
            slots[i] = cache.slotPositions(i);
        }
        Map<Integer, NDArray> masks = new java.util.HashMap<>();
        for (int l = 0; l < cfg.numLayers(); l++) {
            masks.computeIfAbsent(cfg.windowOf(l), window -> step.create(attentionMask(newPos, slots, s, window, g),
                    new Shape(b, 1, g * t, s)));
        }
        NDArray[] rope = ropeFactors(step, pos, maxPos, b, t);
        NDArray x = embed.get(new NDIndex("{}", step.create(ids)));
        x.attach(step);
        x = x.reshape(b, t, cfg.hiddenSize());
        for (int l = 0; l < cfg.numLayers(); l++) {
            try (NDManager lm = step.newSubManager()) {
                x.attach(lm);
                Layer w = layers != null ? layers[l] : sourceLayers[l].fused(lm);
                NDArray hn = rmsNorm(x, w.attnNorm());
                // [b, t, q|k|v heads, 2, d/2]: rotate every head at once (v heads by the identity), then heads first.
                NDArray qkv = project(hn, w.wQkv(), w.bQkv()).reshape(b, t, heads, 2, d / 2);
                NDArray rotated = qkv.mul(rope[0]).add(qkv.flip(3).mul(rope[1]))
                        .reshape(b, t, heads, d).transpose(0, 2, 1, 3);
                NDList split = rotated.split(new long[] {nh, nh + nkv}, 1);
                NDArray q = split.get(0).reshape(b, nkv, g * t, d);
                // Views of the cache buffers, closed with this layer (the buffers stay).
                NDArray[] kv = cache.append(l, split.get(1), split.get(2), past, lm);
                NDArray att = q.matMul(kv[0].transpose(0, 1, 3, 2))
                        .toType(DataType.FLOAT32, false)
                        .add(masks.get(cfg.windowOf(l)))
                        .softmax(-1)
                        .toType(dtype, false);
                NDArray o = att.matMul(kv[1]); // [b, kvHeads, groups * t, d], head h = kv * groups + group
                o = t == 1 ? o.reshape(b, 1, nh * d) : o.reshape(b, nh, t, d).transpose(0, 2, 1, 3).reshape(b, t, nh * d);
                NDArray x1 = x.add(o.matMul(w.wo()));
                NDList gateUp = rmsNorm(x1, w.mlpNorm()).matMul(w.wGateUp()).split(2, 2);
                NDArray gate = gateUp.get(0);
                NDArray mlp = gate.mul(Activation.sigmoid(gate)).mul(gateUp.get(1)).matMul(w.wDown());
                x = x1.add(mlp);
                x.attach(step);
            }
        }
        return rmsNorm(x, finalNorm);
    }

    /**
     * Per-head RoPE factors of this pass's positions, [b, t, q|k|v heads, 2, d/2] each: cos and sign-folded sin,
     * the q heads' times the attention scale, the v heads' 1 and 0 (see the class comment). Owned by {@code step}.
     */
    private NDArray[] ropeFactors(NDManager step, long[] positions, long maxPos, int b, int t) {
        int nh = cfg.numHeads();
        int nkv = cfg.numKvHeads();
        int half = cfg.headDim() / 2;
        NDArray[] tables = ropeTables(maxPos + 1);
        NDArray index = step.create(positions);
        NDArray[] out = new NDArray[2];
        for (int c = 0; c < 2; c++) {
            NDArray rows = tables[c].get(new NDIndex("{}", index));
            rows.attach(step);
            rows = rows.reshape(b, t, 1, 2, half);
            NDArray vHeads = c == 0 ? step.ones(new Shape(b, t, nkv, 2, half), dtype)
                    : step.zeros(new Shape(b, t, nkv, 2, half), dtype);
            out[c] = NDArrays.concat(new NDList(rows.mul(scale).broadcast(b, t, nh, 2, half),
                    rows.broadcast(b, t, nkv, 2, half), vHeads), 2);
        }
        return out;
    }

    /**
     * cos and sign-folded sin ({@code -sin} on the first half of a head, {@code +sin} on the second), [positions,
     * headDim] in the compute type, covering at least {@code positions}. Computed in double precision once per
     * length; a longer sequence replaces them with tables of twice the length (the old ones stay until the model
     * closes, in case another thread still reads them: at most as much again).
     */
    private synchronized NDArray[] ropeTables(long positions) {
        if (ropeTables != null && ropeTables[0].getShape().get(0) >= positions) {
            return ropeTables;
        }
        long rows = ropeTables == null
                ? Math.max(positions, Math.min(INITIAL_ROPE_POSITIONS, Math.max(1, cfg.maxPositionEmbeddings())))
                : Math.max(positions, 2 * ropeTables[0].getShape().get(0));
        int d = cfg.headDim();
        int half = d / 2;
        float[] cos = new float[Math.toIntExact(rows * d)];
        float[] sin = new float[cos.length];
        for (int p = 0; p < rows; p++) {
            for (int j = 0; j < half; j++) {
                double angle = p * inverseFrequencies[j];
                float c = (float) Math.cos(angle);
                float sn = (float) Math.sin(angle);
                cos[p * d + j] = c;
                cos[p * d + half + j] = c;
                sin[p * d + j] = -sn;
                sin[p * d + half + j] = sn;
            }
        }
        NDArray[] tables = new NDArray[2];
        float[][] src = {cos, sin};
        for (int c = 0; c < 2; c++) {
            NDArray f32 = manager.create(src[c], new Shape(rows, d));
            tables[c] = f32.toType(dtype, false);
            if (tables[c] != f32) {
                f32.close();
            }
        }
        ropeTables = tables;
        return tables;
    }

    /**
     * Additive mask [b][groups * t][s] of a layer with attention window {@code window} (0 = full): query at position q sees
     * cache slot position p iff p is real (>= 0), p <= q and, windowed, q - p < window (transformers' sliding window).
     */
    private static float[] attentionMask(long[][] newPos, long[][] slots, int s, int window, int groups) {
        int b = newPos.length;
        int t = newPos[0].length;
        float[] mask = new float[b * groups * t * s];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                long q = newPos[i][j];
                int base = (i * groups * t + j) * s;
                for (int k = 0; k < s; k++) {
                    long p = slots[i][k];
                    boolean ok = p >= 0 && p <= q && (window <= 0 || q - p < window);
                    mask[base + k] = ok ? 0f : -1e9f;
                }
            }
            // The same rows for every query group sharing a KV head (query rows are group-major: group * t + j).
            for (int grp = 1; grp < groups; grp++) {
                System.arraycopy(mask, i * groups * t * s, mask, (i * groups + grp) * t * s, t * s);
            }
        }
        return mask;
    }

    /** F32 vocabulary logits of hidden states from {@link #hiddenStates} (any leading shape). */
    public NDArray logits(NDArray hidden) {
        return linear(hidden, lmHead, null).toType(DataType.FLOAT32, false);
    }

    /** RMSNorm in F32; {@code w} null when the weight is folded into the next projection. */
    private NDArray rmsNorm(NDArray x, NDArray w) {
        NDArray xf = x.toType(DataType.FLOAT32, false);
        NDArray normed = xf.div(xf.square().mean(new int[] {-1}, true).add((float) cfg.rmsNormEps()).sqrt())
                .toType(dtype, false);
        return w == null ? normed : normed.mul(w);
    }

    /** {@code x W^T + b} with W stored transposed ({@code [in, out]}): one matmul call, no transpose. */
    private static NDArray project(NDArray x, NDArray wT, NDArray bias) {
        NDArray y = x.matMul(wT);
        return bias == null ? y : y.add(bias);
    }

    private static NDArray linear(NDArray x, NDArray w, NDArray bias) {
        return (bias == null ? Linear.linear(x, w) : Linear.linear(x, w, bias)).singletonOrThrow();
    }

    @Override
    public void close() {
        manager.close();
    }
}
