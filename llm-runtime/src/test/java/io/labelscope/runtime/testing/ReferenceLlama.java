package io.labelscope.runtime.testing;

/**
 * An independent, deliberately plain forward pass in double-precision loops: no cache, no batching, one sequence,
 * every position recomputed. Used only as the oracle for the DJL runtime. Follows the Hugging Face Llama/Qwen2/
 * Mistral modelling code (rotate-half RoPE, repeat-kv GQA, RMSNorm, SwiGLU).
 */
public final class ReferenceLlama {
    private final TinyCheckpoint ck;
    private final TinyCheckpoint.Spec s;
    private final int window;

    public ReferenceLlama(TinyCheckpoint ck) {
        this(ck, 0);
    }

    /** With a Mistral-style sliding window: position i attends to positions i-window+1..i (0 = unlimited). */
    public ReferenceLlama(TinyCheckpoint ck, int window) {
        this.ck = ck;
        this.s = ck.spec;
        this.window = window;
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
        double[] inv = invFreq();
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            double[][] hn = norm(x, w(p + "input_layernorm.weight"));
            double[][] q = matvec(hn, w(p + "self_attn.q_proj.weight"), s.bias() ? w(p + "self_attn.q_proj.bias") : null, s.heads() * d);
            double[][] k = matvec(hn, w(p + "self_attn.k_proj.weight"), s.bias() ? w(p + "self_attn.k_proj.bias") : null, s.kvHeads() * d);
            double[][] v = matvec(hn, w(p + "self_attn.v_proj.weight"), s.bias() ? w(p + "self_attn.v_proj.bias") : null, s.kvHeads() * d);
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

    private double[] invFreq() {
        int half = s.headDim() / 2;
        double[] f = new double[half];
        for (int i = 0; i < half; i++) {
            double base = Math.pow(s.ropeTheta(), -2.0 * i / s.headDim());
            if (s.ropeScalingFactor() > 0) {
                // Llama 3.1 scaling, original context 16, low 1, high 4 (as TinyCheckpoint writes it).
                double ctx = 16;
                double wavelen = 2 * Math.PI / base;
                double lowWave = ctx / 1.0;
                double highWave = ctx / 4.0;
                if (wavelen > lowWave) {
                    base = base / s.ropeScalingFactor();
                } else if (wavelen >= highWave) {
                    double smooth = (ctx / wavelen - 1.0) / (4.0 - 1.0);
                    base = (1 - smooth) * base / s.ropeScalingFactor() + smooth * base;
                }
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
