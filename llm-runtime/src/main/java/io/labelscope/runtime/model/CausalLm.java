package io.labelscope.runtime.model;

import ai.djl.ndarray.NDArray;
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
 * <p>Attention is composed from ops (there is no fused kernel in the JNI): per layer, RMSNorm, q/k/v projections
 * (+ biases for Qwen 2), rotary embeddings in the Hugging Face "rotate half" layout, grouped-query attention with an
 * additive mask built from the cache's slot positions (causal + padding + optional sliding window), softmax in F32,
 * output projection, residual, RMSNorm, SwiGLU MLP, residual.
 */
public final class CausalLm implements AutoCloseable {

    /** One decoder layer's weights; biases are null when the architecture has none. */
    record Layer(NDArray attnNorm, NDArray wq, NDArray bq, NDArray wk, NDArray bk, NDArray wv, NDArray bv,
                 NDArray wo, NDArray mlpNorm, NDArray wGate, NDArray wUp, NDArray wDown) {}

    private final ModelConfig cfg;
    private final NDManager manager;
    private final DataType dtype;
    private final NDArray embed;
    private final NDArray lmHead;
    private final NDArray finalNorm;
    private final Layer[] layers;
    private final NDArray invFreq;
    private final float scale;

    private CausalLm(ModelConfig cfg, NDManager manager, DataType dtype, NDArray embed, NDArray lmHead,
                     NDArray finalNorm, Layer[] layers) {
        this.cfg = cfg;
        this.manager = manager;
        this.dtype = dtype;
        this.embed = embed;
        this.lmHead = lmHead;
        this.finalNorm = finalNorm;
        this.layers = layers;
        double[] inv = cfg.inverseFrequencies();
        float[] f = new float[inv.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) inv[i];
        }
        this.invFreq = manager.create(f);
        this.scale = (float) (1.0 / Math.sqrt(cfg.headDim()));
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
            layers[i] = new Layer(
                    ld.load(p + "input_layernorm.weight", h),
                    ld.load(p + "self_attn.q_proj.weight", qDim, h),
                    bias ? ld.load(p + "self_attn.q_proj.bias", qDim) : null,
                    ld.load(p + "self_attn.k_proj.weight", kvDim, h),
                    bias ? ld.load(p + "self_attn.k_proj.bias", kvDim) : null,
                    ld.load(p + "self_attn.v_proj.weight", kvDim, h),
                    bias ? ld.load(p + "self_attn.v_proj.bias", kvDim) : null,
                    ld.load(p + "self_attn.o_proj.weight", h, qDim),
                    ld.load(p + "post_attention_layernorm.weight", h),
                    ld.load(p + "mlp.gate_proj.weight", inter, h),
                    ld.load(p + "mlp.up_proj.weight", inter, h),
                    ld.load(p + "mlp.down_proj.weight", h, inter));
        }
        return new CausalLm(cfg, manager, dtype, embed, lmHead, norm, layers);
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
        Layer[] layers = new Layer[cfg.numLayers()];
        boolean bias = cfg.attentionBias();
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            layers[i] = new Layer(
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
        return new CausalLm(cfg, manager, dtype, embed, lmHead, norm, layers);
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

    /** A new empty cache for {@code batch} sequences, owned by a sub-manager of {@code parent}. */
    public KvCache newCache(NDManager parent, int batch) {
        return new KvCache(parent, layers.length, batch);
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
        float[] pos = new float[b * t];
        long[][] newPos = new long[b][t];
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
            }
        }
        cache.appendPositions(newPos);
        int s = past + t;
        // One additive mask per distinct layer window (full attention = 0): Qwen2 mixes full and windowed layers.
        long[][] slots = new long[b][];
        for (int i = 0; i < b; i++) {
            slots[i] = cache.slotPositions(i);
        }
        Map<Integer, NDArray> masks = new java.util.HashMap<>();
        for (int l = 0; l < layers.length; l++) {
            masks.computeIfAbsent(cfg.windowOf(l), window -> step.create(attentionMask(newPos, slots, s, window),
                    new Shape(b, 1, 1, t, s)));
        }
        int nh = cfg.numHeads();
        int nkv = cfg.numKvHeads();
        int g = cfg.kvGroups();
        int d = cfg.headDim();
        NDArray posNd = step.create(pos, new Shape(b, t, 1));
        NDArray freqs = posNd.mul(invFreq);
        NDArray emb = freqs.concat(freqs, -1);
        NDArray cos = emb.cos().expandDims(2).toType(dtype, false);
        NDArray sin = emb.sin().expandDims(2).toType(dtype, false);
        NDArray x = embed.get(new NDIndex("{}", step.create(ids)));
        x.attach(step);
        x = x.reshape(b, t, cfg.hiddenSize());
        for (int l = 0; l < layers.length; l++) {
            Layer w = layers[l];
            try (NDManager lm = step.newSubManager()) {
                x.attach(lm);
                NDArray hn = rmsNorm(x, w.attnNorm());
                NDArray q = linear(hn, w.wq(), w.bq()).reshape(b, t, nh, d);
                NDArray k = linear(hn, w.wk(), w.bk()).reshape(b, t, nkv, d);
                NDArray v = linear(hn, w.wv(), w.bv()).reshape(b, t, nkv, d);
                q = rope(q, cos, sin).mul(scale).transpose(0, 2, 1, 3).reshape(b, nkv, g * t, d);
                k = rope(k, cos, sin).transpose(0, 2, 1, 3);
                v = v.transpose(0, 2, 1, 3);
                NDArray[] kv = cache.append(l, k, v);
                // A view of a cache tensor belongs to the cache's manager: move it into this layer's scope, or it
                // (and through it the superseded cache tensor) lives as long as the cache.
                NDArray keysT = kv[0].transpose(0, 1, 3, 2);
                keysT.attach(lm);
                NDArray att = q.matMul(keysT)
                        .toType(DataType.FLOAT32, false)
                        .reshape(b, nkv, g, t, s)
                        .add(masks.get(cfg.windowOf(l)))
                        .softmax(-1)
                        .toType(dtype, false)
                        .reshape(b, nkv, g * t, s);
                NDArray o = att.matMul(kv[1]).reshape(b, nh, t, d).transpose(0, 2, 1, 3).reshape(b, t, nh * d);
                NDArray x1 = x.add(linear(o, w.wo(), null));
                NDArray h2 = rmsNorm(x1, w.mlpNorm());
                NDArray gate = linear(h2, w.wGate(), null);
                NDArray mlp = linear(gate.mul(Activation.sigmoid(gate)).mul(linear(h2, w.wUp(), null)), w.wDown(), null);
                x = x1.add(mlp);
                x.attach(step);
            }
        }
        return rmsNorm(x, finalNorm);
    }

    /**
     * Additive mask [b][t][s] of a layer with attention window {@code window} (0 = full): query at position q sees
     * cache slot position p iff p is real (>= 0), p <= q and, windowed, q - p < window (transformers' sliding window).
     */
    private static float[] attentionMask(long[][] newPos, long[][] slots, int s, int window) {
        int b = newPos.length;
        int t = newPos[0].length;
        float[] mask = new float[b * t * s];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                long q = newPos[i][j];
                int base = (i * t + j) * s;
                for (int k = 0; k < s; k++) {
                    long p = slots[i][k];
                    boolean ok = p >= 0 && p <= q && (window <= 0 || q - p < window);
                    mask[base + k] = ok ? 0f : -1e9f;
                }
            }
        }
        return mask;
    }

    /** F32 vocabulary logits of hidden states from {@link #hiddenStates} (any leading shape). */
    public NDArray logits(NDArray hidden) {
        return linear(hidden, lmHead, null).toType(DataType.FLOAT32, false);
    }

    private NDArray rmsNorm(NDArray x, NDArray w) {
        NDArray xf = x.toType(DataType.FLOAT32, false);
        NDArray inv = xf.square().mean(new int[] {-1}, true).add((float) cfg.rmsNormEps()).sqrt();
        return xf.div(inv).toType(dtype, false).mul(w);
    }

    private static NDArray rope(NDArray x, NDArray cos, NDArray sin) {
        long half = x.getShape().get(3) / 2;
        NDArray x1 = x.get(new NDIndex("..., :" + half));
        NDArray x2 = x.get(new NDIndex("..., " + half + ":"));
        NDArray rotated = x2.neg().concat(x1, -1);
        return x.mul(cos).add(rotated.mul(sin));
    }

    private static NDArray linear(NDArray x, NDArray w, NDArray bias) {
        return (bias == null ? Linear.linear(x, w) : Linear.linear(x, w, bias)).singletonOrThrow();
    }

    @Override
    public void close() {
        manager.close();
    }
}
