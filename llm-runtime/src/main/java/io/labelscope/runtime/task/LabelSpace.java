package io.labelscope.runtime.task;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.TextTokenizer;
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
 *
 * <p>The variant rule: a variant counts only if its first token carries the label's identity, that is, the token
 * (without its leading white space) begins the variant and covers at least as many of its characters as the label's
 * in-prompt first token covers of the label, or the whole variant. When {@code Fear} splits into {@code F} +
 * {@code ear} while the prompt writes {@code fear} as one token, {@code F} is rejected: its probability is that of
 * every word starting with F, not of the label. Each variant's first token is taken where it stands in text (after a
 * line break, so a SentencePiece tokenizer does not prepend {@code ▁} to a form that has no space). Rejected variants
 * and collisions are logged and listed ({@link #rejected()}, {@link #collisions()}).
 */
public final class LabelSpace {
    private static final System.Logger LOG = System.getLogger(LabelSpace.class.getName());

    private final List<String> names;
    private final long[][] tokens;
    private final long[] inPrompt;
    private final Map<Long, Integer> owner = new HashMap<>();
    private final List<String> collisions = new ArrayList<>();
    private final List<String> rejected = new ArrayList<>();

    public LabelSpace(LlmModel model, PromptRenderer renderer) {
        this(TextTokenizer.of(model), renderer);
    }

    /** From the tokenizer alone (no weights): what {@code labelscope model inspect} shows. */
    public LabelSpace(TextTokenizer model, PromptRenderer renderer) {
        TaskDefinition task = renderer.task();
        this.names = task.scoredLabels();
        int n = names.size();
        inPrompt = new long[n];
        List<Set<Long>> candidates = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String l = names.get(i);
            long[] in = inPromptToken(model, renderer, l);
            inPrompt[i] = in[0];
            int identityChars = (int) in[1];
            Set<Long> c = new LinkedHashSet<>();
            c.add(inPrompt[i]);
            if (!task.compatCode()) {
                List<String> forms = new ArrayList<>(List.of(l, capitalise(l), " " + l, " " + capitalise(l)));
                forms.addAll(task.extraVariants().getOrDefault(l, List.of()));
                for (String f : forms) {
                    long id = firstToken(model, f);
                    if (id < 0 || c.contains(id)) {
                        continue;
                    }
                    String text = model.decode(new long[] {id});
                    if (carriesIdentity(text, f, identityChars)) {
                        c.add(id);
                    } else {
                        reject(l, f, id, text, identityChars);
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

    private void reject(String label, String form, long id, String tokenText, int identityChars) {
        String msg = "variant '" + form + "' of '" + label + "' starts with token " + id + " '" + tokenText
                + "', which does not carry the label (the in-prompt first token covers " + identityChars
                + " character(s)); not scored";
        rejected.add(msg);
        LOG.log(System.Logger.Level.INFO, msg);
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

    /**
     * The variant rule (class comment): the token begins the word and covers at least {@code identityChars} of its
     * characters, or all of them.
     */
    static boolean carriesIdentity(String tokenText, String variant, int identityChars) {
        String t = tokenText.strip();
        String word = variant.strip();
        return startsWord(tokenText, variant) && t.length() >= Math.min(identityChars, word.length());
    }

    /**
     * The id of the first token of {@code form} as it stands in running text: tokenised after a line break (which no
     * tokenizer family merges with a following letter or space), the token covering the form's first character. A
     * form whose first character merges with the line break falls back to tokenising the form alone. -1: no token.
     */
    static long firstToken(TextTokenizer model, String form) {
        Encoding e = model.encoding("\n" + form, false);
        CharSpan[] spans = e.getCharTokenSpans();
        long[] ids = e.getIds();
        for (int i = 0; i < ids.length; i++) {
            if (spans[i] != null && spans[i].getStart() <= 1 && 1 < spans[i].getEnd()) {
                if (spans[i].getStart() == 1) {
                    return ids[i];
                }
                break;
            }
        }
        long[] alone = model.encode(form, false);
        return alone.length == 0 ? -1 : alone[0];
    }

    static String capitalise(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
    }

    /**
     * The token covering the label's first character inside a rendered answer, and how many of the label's
     * characters it covers: {id, chars}. The answer is tokenised after a line break, where demo answers stand in a
     * plain prompt (so a SentencePiece tokenizer does not prepend a {@code ▁} that the prompt does not have).
     */
    private static long[] inPromptToken(TextTokenizer model, PromptRenderer r, String label) {
        String answer = "\n" + r.answer(List.of(label));
        int at = r.labelOffsetInAnswer(label) + 1;
        Encoding e = model.encoding(answer, false);
        CharSpan[] spans = e.getCharTokenSpans();
        long[] ids = e.getIds();
        for (int i = 0; i < ids.length; i++) {
            if (spans[i] != null && spans[i].getStart() <= at && at < spans[i].getEnd()) {
                return new long[] {ids[i], Math.min(label.length(), spans[i].getEnd() - at)};
            }
        }
        long[] alone = model.encode(label, false);
        return new long[] {alone[0], Math.max(1, model.decode(new long[] {alone[0]}).strip().length())};
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

    /** Variants whose first token does not carry the label (the variant rule), one line each. */
    public List<String> rejected() {
        return List.copyOf(rejected);
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
