package io.labelscope.runtime.task;

import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.TextTokenizer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The first-token ids that score the two answer words of a breakdown probe ({@code reasonable} / {@code unreasonable},
 * {@code a} / {@code b}). As {@link LabelSpace} does for labels: the first token of each same-concept surface form
 * ({@code w}, {@code W}, {@code " w"}, {@code " W"}), a bare space or quote token excluded; the option's logit is the
 * max over its tokens. A token that starts both words says nothing about either and is dropped from both; if that
 * leaves a word without tokens the two words cannot be told apart at the first answer position, which is an error.
 */
public final class OptionTokens {
    private final List<String> words;
    private final long[][] tokens;

    public OptionTokens(LlmModel model, String first, String second) {
        this.words = List.of(first, second);
        List<Set<Long>> sets = List.of(forms(model, first), forms(model, second));
        Set<Long> shared = new LinkedHashSet<>(sets.get(0));
        shared.retainAll(sets.get(1));
        tokens = new long[2][];
        for (int i = 0; i < 2; i++) {
            Set<Long> own = new LinkedHashSet<>(sets.get(i));
            own.removeAll(shared);
            if (own.isEmpty()) {
                throw new IllegalArgumentException("answer words '" + first + "' and '" + second + "' start with the "
                        + "same token(s) " + shared + " in this model's tokenizer: the first answer position cannot "
                        + "tell them apart; choose words that differ in their first token");
            }
            tokens[i] = own.stream().mapToLong(Long::longValue).toArray();
        }
    }

    private static Set<Long> forms(LlmModel model, String word) {
        String w = word.strip();
        Set<Long> out = new LinkedHashSet<>();
        for (String f : List.of(" " + w, w, " " + LabelSpace.capitalise(w), LabelSpace.capitalise(w))) {
            long id = LabelSpace.firstToken(TextTokenizer.of(model), f);
            if (id >= 0 && LabelSpace.startsWord(model.decode(new long[] {id}), f)) {
                out.add(id);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("answer word '" + word + "' has no first token that carries its start");
        }
        return out;
    }

    public List<String> words() {
        return words;
    }

    /** Token ids of option {@code i} (0 = first word, 1 = second). */
    public long[] tokens(int i) {
        return tokens[i].clone();
    }

    public int width() {
        return Math.max(tokens[0].length, tokens[1].length);
    }

    /** Row-major [2, width] gather index, a short row padded by repeating its first id (max is unchanged). */
    public long[] gatherIndex() {
        int w = width();
        long[] idx = new long[2 * w];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < w; j++) {
                idx[i * w + j] = tokens[i][j < tokens[i].length ? j : 0];
            }
        }
        return idx;
    }

    @Override
    public String toString() {
        List<String> s = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            s.add(words.get(i) + "=" + java.util.Arrays.toString(tokens[i]));
        }
        return String.join(", ", s);
    }
}
