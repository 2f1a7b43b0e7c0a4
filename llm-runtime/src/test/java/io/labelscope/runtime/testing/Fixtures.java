package io.labelscope.runtime.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Shared tiny tokenizer and checkpoints for the tests. */
public final class Fixtures {
    private Fixtures() {}

    /** Pre-tokens that become single tokens; everything else splits into pieces (multi-token labels). */
    public static final List<String> WORDS = List.of(
            "Input", ":", " joy", "joy", "Joy", " Joy", "none", " none", "label", "\":", " [\"", "\"]}", "{\"",
            "\",", " \"", "Classify", " the", " following", " inputs", " into", " one", " or", " multiple",
            " emotions", " per", " input", ".", " Output", " exactly", " these", " and", " no", " others",
            " fear", "fear", " anger", "anger", " sur", "sur", " I", " am", " happy", " sad", " today", " so",
            " it", " is", " was", " great", " scary", ",", "\n", " a", " b");

    public static final int VOCAB = 512;

    private static ByteBpe bpe;

    public static synchronized ByteBpe tokenizer() {
        if (bpe == null) {
            bpe = new ByteBpe(WORDS);
            if (bpe.size() > VOCAB) {
                throw new IllegalStateException("tokenizer too large: " + bpe.size());
            }
        }
        return bpe;
    }

    /** Writes a checkpoint of {@code spec} (F32, one file) into {@code dir}; returns it. */
    public static TinyCheckpoint write(Path dir, TinyCheckpoint.Spec spec) throws IOException {
        TinyCheckpoint ck = new TinyCheckpoint(spec);
        ck.write(dir, TinyCheckpoint.FileType.F32, 1, tokenizer());
        return ck;
    }

    /** Largest |a-b| divided by the largest |b| (relative error of a whole logits vector). */
    public static double relErr(float[] a, double[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < b.length; i++) {
            num = Math.max(num, Math.abs(a[i] - b[i]));
            den = Math.max(den, Math.abs(b[i]));
        }
        return num / den;
    }
}
