package io.labelscope.runtime.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * An independent, deliberately plain forward pass in double-precision loops: no cache, no batching, one sequence,
 * every position recomputed. Used only as the oracle for the DJL runtime. Follows the Hugging Face transformers
 * Llama/Qwen2/Mistral modelling code (rotate-half RoPE with the {@code default}, {@code linear} and {@code llama3}
 * inverse frequencies of {@code modeling_rope_utils}, repeat-kv GQA, RMSNorm, SwiGLU, q/k/v biases) and reads
 * everything from the checkpoint's config.json itself, not through the runtime's {@code ModelConfig}: the sliding
 * window per layer follows transformers' rules (Mistral: every layer; Qwen2: {@code sliding_window} only with
 * {@code use_sliding_window}, on layers {@code i >= max_window_layers}, default 28; an explicit {@code layer_types}
 * wins). The {@code without...} variants drop one feature, to show that the comparison would catch its loss.
 */
public final class ReferenceLlama {
    private final TinyCheckpoint ck;
    private final TinyCheckpoint.Spec s;
    private final JsonNode config;
    private final boolean bias;
    private final double[] invFreq;
    private final int[] windows;

    public ReferenceLlama(TinyCheckpoint ck) {
        this.ck = ck;
        this.s = ck.spec;
        this.config = new ObjectMapper().valueToTree(ck.configJson());
        this.bias = TinyCheckpoint.hasBiases(ck.configJson());
        this.invFreq = invFreq(config, s.headDim(), true);
        this.windows = layerWindows(config, s.layers());
    }

    /** With a sliding window on every layer: position i attends to positions i-window+1..i (0 = unlimited). */
    public ReferenceLlama(TinyCheckpoint ck, int window) {
        this(ck, ck.spec.headDim(), true, TinyCheckpoint.hasBiases(ck.configJson()), fill(ck.spec.layers(), window));
    }

    private ReferenceLlama(TinyCheckpoint ck, int headDim, boolean ropeScaling, boolean bias, int[] windows) {
        this.ck = ck;
        this.s = ck.spec;
        this.config = new ObjectMapper().valueToTree(ck.configJson());
        this.bias = bias;
        this.invFreq = invFreq(config, headDim, ropeScaling);
        this.windows = windows;
    }

    /** The same model without its rope_scaling (plain rotary frequencies). */
    public ReferenceLlama withoutRopeScaling() {
        return new ReferenceLlama(ck, s.headDim(), false, bias, windows);
    }

    /** The same model ignoring its q/k/v biases. */
    public ReferenceLlama withoutBiases() {
        return new ReferenceLlama(ck, s.headDim(), true, false, windows);
    }

    /** The same model with full attention on every layer. */
    public ReferenceLlama withoutWindows() {
        return new ReferenceLlama(ck, s.headDim(), true, bias, new int[s.layers()]);
    }

    /** The same model with its window on every layer (ignoring max_window_layers / layer_types). */
    public ReferenceLlama withWindowOnEveryLayer() {
        int w = 0;
        for (int x : windows) {
            w = Math.max(w, x);
        }
        return new ReferenceLlama(ck, s.headDim(), true, bias, fill(s.layers(), w));
    }

    /** Window per layer, 0 = full attention. */
    public int[] windows() {
        return windows.clone();
    }

    private static int[] fill(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static int[] layerWindows(JsonNode c, int layers) {
        String arch = c.get("architectures").get(0).asText();
        int[] out = new int[layers];
        if (arch.equals("LlamaForCausalLM")) {
            return out;
        }
        boolean qwen = arch.equals("Qwen2ForCausalLM");
        JsonNode sw = c.get("sliding_window");
        int window = sw == null || sw.isNull() || (qwen && !c.path("use_sliding_window").asBoolean(false))
                ? 0 : sw.asInt();
        JsonNode types = c.get("layer_types");
        int first = qwen ? (c.hasNonNull("max_window_layers") ? c.get("max_window_layers").asInt() : 28) : 0;
        for (int i = 0; i < layers; i++) {
            boolean sliding = types != null && !types.isNull()
                    ? types.get(i).asText().equals("sliding_attention")
                    : window > 0 && i >= first;
            out[i] = sliding ? window : 0;
        }
        return out;
    }

    private float[] w(String name) {
        return ck.weights.get(name);
    }

    /** Logits [T][vocab] of a token sequence starting at position 0. */
    public double[][] logits(int[] tokens) {
        int t = tokens.length;
        int h = s.hidden();
        int d = s.headDim();
        double[][] x = new double[t][h];
        float[] emb = w("model.embed_tokens.weight");
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < h; j++) {
                x[i][j] = emb[tokens[i] * h + j];
            }
        }
        double[] inv = invFreq;
        for (int l = 0; l < s.layers(); l++) {
            int window = windows[l];
            String p = "model.layers." + l + ".";
            double[][] hn = norm(x, w(p + "input_layernorm.weight"));
            double[][] q = matvec(hn, w(p + "self_attn.q_proj.weight"), bias ? w(p + "self_attn.q_proj.bias") : null, s.heads() * d);
            double[][] k = matvec(hn, w(p + "self_attn.k_proj.weight"), bias ? w(p + "self_attn.k_proj.bias") : null, s.kvHeads() * d);
            double[][] v = matvec(hn, w(p + "self_attn.v_proj.weight"), bias ? w(p + "self_attn.v_proj.bias") : null, s.kvHeads() * d);
            for (int i = 0; i < t; i++) {
                rotate(q[i], s.heads(), d, i, inv);
                rotate(k[i], s.kvHeads(), d, i, inv);
            }
            double[][] att = new double[t][s.heads() * d];
            int group = s.heads() / s.kvHeads();
            for (int head = 0; head < s.heads(); head++) {
                int kvh = head / group;
                for (int i = 0; i < t; i++) {
                    double[] sc = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    int from = window > 0 ? Math.max(0, i - window + 1) : 0;
                    for (int j = 0; j < from; j++) {
                        sc[j] = Double.NEGATIVE_INFINITY;
                    }
                    for (int j = from; j <= i; j++) {
                        double dot = 0;
                        for (int e = 0; e < d; e++) {
                            dot += q[i][head * d + e] * k[j][kvh * d + e];
                        }
                        sc[j] = dot / Math.sqrt(d);
                        max = Math.max(max, sc[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        sc[j] = j < from ? 0 : Math.exp(sc[j] - max);
                        sum += sc[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < d; e++) {
                            att[i][head * d + e] += sc[j] / sum * v[j][kvh * d + e];
                        }
                    }
                }
            }
            double[][] o = matvec(att, w(p + "self_attn.o_proj.weight"), null, h);
            add(x, o);
            double[][] h2 = norm(x, w(p + "post_attention_layernorm.weight"));
            double[][] gate = matvec(h2, w(p + "mlp.gate_proj.weight"), null, s.inter());
            double[][] up = matvec(h2, w(p + "mlp.up_proj.weight"), null, s.inter());
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < s.inter(); j++) {
                    double g = gate[i][j];
                    gate[i][j] = g / (1 + Math.exp(-g)) * up[i][j];
                }
            }
            add(x, matvec(gate, w(p + "mlp.down_proj.weight"), null, h));
        }
        double[][] fin = norm(x, w("model.norm.weight"));
        return matvec(fin, w(s.tie() ? "model.embed_tokens.weight" : "lm_head.weight"), null, s.vocab());
    }

    /**
     * inv_freq[i] = theta^(-2i/d), then rescaled as transformers' {@code _compute_linear_scaling_rope_parameters}
     * (divide by factor) or {@code _compute_llama3_parameters} (long wavelengths divided by factor, short ones kept,
     * the band between interpolated) say.
     */
    private static double[] invFreq(JsonNode c, int headDim, boolean scaling) {
        int half = headDim / 2;
        double theta = c.get("rope_theta").asDouble();
        double[] f = new double[half];
        JsonNode rs = c.get("rope_scaling");
        String type = !scaling || rs == null || rs.isNull() ? "default"
                : rs.has("rope_type") ? rs.get("rope_type").asText() : rs.get("type").asText();
        for (int i = 0; i < half; i++) {
            double base = 1.0 / Math.pow(theta, 2.0 * i / headDim);
            switch (type) {
                case "default" -> { }
                case "linear" -> base /= rs.get("factor").asDouble();
                case "llama3" -> {
                    double factor = rs.get("factor").asDouble();
                    double low = rs.get("low_freq_factor").asDouble();
                    double high = rs.get("high_freq_factor").asDouble();
                    double ctx = rs.get("original_max_position_embeddings").asDouble();
                    double wavelen = 2 * Math.PI / base;
                    if (wavelen > ctx / low) {
                        base = base / factor;
                    } else if (wavelen >= ctx / high) {
                        double smooth = (ctx / wavelen - low) / (high - low);
                        base = (1 - smooth) * base / factor + smooth * base;
                    }
                }
                default -> throw new IllegalArgumentException("reference has no rope type " + type);
            }
            f[i] = base;
        }
        return f;
    }

    private static void rotate(double[] v, int heads, int d, int pos, double[] inv) {
        int half = d / 2;
        for (int head = 0; head < heads; head++) {
            int o = head * d;
            for (int i = 0; i < half; i++) {
                double ang = pos * inv[i];
                double c = Math.cos(ang);
                double sn = Math.sin(ang);
                double a = v[o + i];
                double b = v[o + i + half];
                v[o + i] = a * c - b * sn;
                v[o + i + half] = b * c + a * sn;
            }
        }
    }

    private double[][] norm(double[][] x, float[] w) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            double ss = 0;
            for (double v : x[i]) {
                ss += v * v;
            }
            double r = 1 / Math.sqrt(ss / x[i].length + s.eps());
            out[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) {
                out[i][j] = x[i][j] * r * w[j];
            }
        }
        return out;
    }

    /** y = x W^T + b with W stored [out][in] row-major. */
    private static double[][] matvec(double[][] x, float[] w, float[] b, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double acc = b == null ? 0 : b[o];
                int base = o * in;
                for (int j = 0; j < in; j++) {
                    acc += x[i][j] * w[base + j];
                }
                y[i][o] = acc;
            }
        }
        return y;
    }

    private static void add(double[][] x, double[][] y) {
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < x[i].length; j++) {
                x[i][j] += y[i][j];
            }
        }
    }
}
