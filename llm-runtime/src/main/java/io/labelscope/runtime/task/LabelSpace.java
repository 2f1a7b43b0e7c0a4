package io.labelscope.runtime.task;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import io.labelscope.runtime.LlmModel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The first-token ids that score each label and {@code none} (SPEC §1 same-concept tokens): the first token of
 * every surface variant ({@code l}, {@code L}, {@code " l"}, {@code " L"}, task extras) plus the form the prompt's
 * demos use. A token id claimed by two labels belongs to the one whose in-prompt form it is (else the earlier label);
 * collisions are logged. With {@code compat=code} only the in-prompt form counts.
 */
public final class LabelSpace {
    private static final System.Logger LOG = System.getLogger(LabelSpace.class.getName());

    private final List<String> names;
    private final long[][] tokens;
    private final long[] inPrompt;
    private final Map<Long, Integer> owner = new HashMap<>();
    private final List<String> collisions = new ArrayList<>();

    public LabelSpace(LlmModel model, PromptRenderer renderer) {
        TaskDefinition task = renderer.task();
        this.names = task.scoredLabels();
        int n = names.size();
        inPrompt = new long[n];
        List<Set<Long>> candidates = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String l = names.get(i);
            inPrompt[i] = inPromptToken(model, renderer, l);
            Set<Long> c = new LinkedHashSet<>();
            c.add(inPrompt[i]);
            if (!task.compatCode()) {
                List<String> forms = new ArrayList<>(List.of(l, capitalise(l), " " + l, " " + capitalise(l)));
                forms.addAll(task.extraVariants().getOrDefault(l, List.of()));
                for (String f : forms) {
                    long[] ids = model.encode(f, false);
                    if (ids.length > 0 && startsWord(model.decode(new long[] {ids[0]}), f)) {
                        c.add(ids[0]);
                    }
                }
            }
            candidates.add(c);
        }
        // In-prompt forms claim first, in label order; then the other variants, in label order.
        for (int i = 0; i < n; i++) {
            Integer prev = owner.putIfAbsent(inPrompt[i], i);
            if (prev != null && prev != i) {
                collision(inPrompt[i], prev, i);
            }
        }
        for (int i = 0; i < n; i++) {
            for (long t : candidates.get(i)) {
                Integer prev = owner.putIfAbsent(t, i);
                if (prev != null && prev != i && t != inPrompt[i]) {
                    collision(t, prev, i);
                }
            }
        }
        tokens = new long[n][];
        for (int i = 0; i < n; i++) {
            final int li = i;
            long[] own = candidates.get(i).stream().filter(t -> owner.get(t) == li).mapToLong(Long::longValue).toArray();
            if (own.length == 0) {
                // Every form of this label starts with another label's token: keep its in-prompt form so it still
                // has a score (shared, and said so in the log).
                LOG.log(System.Logger.Level.WARNING, "label ''{0}'' owns no first token; scoring it with shared token {1}",
                        names.get(i), inPrompt[i]);
                own = new long[] {inPrompt[i]};
            }
            tokens[i] = own;
        }
    }

    private void collision(long token, int kept, int lost) {
        String msg = "token " + token + " starts both '" + names.get(kept) + "' and '" + names.get(lost)
                + "'; it scores '" + names.get(kept) + "' only";
        collisions.add(msg);
        LOG.log(System.Logger.Level.INFO, msg);
    }

    /**
     * A variant's first token counts only if it carries the start of the word: a bare space or quote token (what
     * {@code " Fear"} begins with when {@code " F"} is no token) says nothing about the label.
     */
    static boolean startsWord(String tokenText, String variant) {
        String t = tokenText.strip();
        return !t.isEmpty() && variant.strip().startsWith(t);
    }

    static String capitalise(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
    }

    /** The token covering the label's first character inside a rendered answer. */
    private static long inPromptToken(LlmModel model, PromptRenderer r, String label) {
        String answer = r.answer(List.of(label));
        int at = r.labelOffsetInAnswer(label);
        Encoding e = model.encoding(answer, false);
        CharSpan[] spans = e.getCharTokenSpans();
        long[] ids = e.getIds();
        for (int i = 0; i < ids.length; i++) {
            if (spans[i] != null && spans[i].getStart() <= at && at < spans[i].getEnd()) {
                return ids[i];
            }
        }
        return model.encode(label, false)[0];
    }

    /** Labels then {@code none}. */
    public List<String> names() {
        return names;
    }

    /** Token ids scoring label {@code i} (at least one). */
    public long[] tokens(int i) {
        return tokens[i].clone();
    }

    public long inPromptToken(int i) {
        return inPrompt[i];
    }

    /** Label index whose first token this is, or -1. */
    public int labelOf(long token) {
        Integer i = owner.get(token);
        return i == null ? -1 : i;
    }

    public List<String> collisions() {
        return List.copyOf(collisions);
    }

    /** Row-major [labels+1, width] gather index, short rows padded by repeating their first id. */
    public long[] gatherIndex() {
        int w = width();
        long[] idx = new long[names.size() * w];
        for (int i = 0; i < names.size(); i++) {
            for (int j = 0; j < w; j++) {
                idx[i * w + j] = tokens[i][j < tokens[i].length ? j : 0];
            }
        }
        return idx;
    }

    public int width() {
        int w = 1;
        for (long[] t : tokens) {
            w = Math.max(w, t.length);
        }
        return w;
    }
}
