package io.labelscope.runtime.decode;

import io.labelscope.runtime.LlmModel;
import java.util.Arrays;
import java.util.List;

/**
 * Token ids of prompts that all begin with one text prefix (a task's instruction and demos), split so the prefix's
 * KV cache can be reused without changing what the model reads.
 *
 * <p>The ids of a prompt are always those of tokenising the whole prompt in one piece. Tokenising the prefix and the
 * rest apart is not the same thing: a SentencePiece tokenizer (a {@code Prepend} normalizer or a {@code Metaspace}
 * pre-tokenizer, as in Llama 2 and Mistral) puts a {@code ▁} before the rest ({@code ▁Input} where the whole prompt
 * has {@code Input}), and any tokenizer may merge the prefix's last characters with the rest's first ones. So the
 * reusable head is the prefix's tokens without its last one (the only one a following character can change), and
 * every whole prompt is checked to begin with exactly those ids; one that does not (a document whose first characters
 * merge further back) is run without the shared cache, so its ids are still those of the whole prompt.
 */
public final class PromptTokens {
    private static final System.Logger LOG = System.getLogger(PromptTokens.class.getName());

    /** A whole prompt's ids and how many of them are the shared head (0 when they do not begin with it). */
    public record Split(long[] ids, int shared) {
        /** What follows the shared head (all ids when none is shared). */
        public long[] rest() {
            return Arrays.copyOfRange(ids, shared, ids.length);
        }

        public boolean onHead() {
            return shared > 0;
        }
    }

    private final LlmModel model;
    private final boolean addSpecialTokens;
    private final long[] head;

    /**
     * @param prefixText the text every prompt begins with
     * @param addSpecialTokens whether the tokenizer's post-processor adds its special tokens (BOS) to a whole prompt;
     *     false when the text already carries them (a chat template writes its own BOS)
     */
    public PromptTokens(LlmModel model, String prefixText, boolean addSpecialTokens) {
        this.model = model;
        this.addSpecialTokens = addSpecialTokens;
        long[] withSpecials = model.encode(prefixText, addSpecialTokens);
        int textTokens = model.encode(prefixText, false).length;
        int specials = withSpecials.length - textTokens;
        // Keep at least the leading special tokens; drop the last text token (see the class comment).
        int keep = textTokens == 0 ? withSpecials.length : Math.max(specials, withSpecials.length - 1);
        this.head = Arrays.copyOf(withSpecials, keep);
    }

    /** The ids whose cache is shared by every prompt that begins with them. */
    public long[] head() {
        return head.clone();
    }

    public boolean addSpecialTokens() {
        return addSpecialTokens;
    }

    /** Tokenises a whole prompt in one piece and says whether it begins with the shared head. */
    public Split split(String wholePrompt) {
        long[] ids = encode(wholePrompt);
        boolean on = head.length > 0 && startsWith(ids, head) && ids.length > head.length;
        if (!on && head.length > 0) {
            LOG.log(System.Logger.Level.DEBUG, "prompt does not begin with the shared prefix tokens; run unshared");
        }
        return new Split(ids, on ? head.length : 0);
    }

    /** Ids of a whole prompt, tokenised in one piece. */
    public long[] encode(String wholePrompt) {
        return model.encode(wholePrompt, addSpecialTokens);
    }

    /**
     * The ids of {@code continuation} as the model reads them after {@code prompt} (whose ids are {@code promptIds}):
     * the tail of tokenising {@code prompt + continuation} in one piece. If that tokenisation does not begin with
     * {@code promptIds} (the continuation's first characters merge with the prompt's last ones) the continuation is
     * tokenised on its own, which is logged.
     */
    public long[] continuation(String prompt, long[] promptIds, String continuation) {
        long[] all = encode(prompt + continuation);
        if (startsWith(all, promptIds)) {
            return Arrays.copyOfRange(all, promptIds.length, all.length);
        }
        LOG.log(System.Logger.Level.WARNING, "the continuation ''{0}'' merges with the end of its prompt; "
                + "tokenising it on its own", continuation);
        return model.encode(continuation, false);
    }

    public static boolean startsWith(long[] ids, long[] head) {
        if (ids.length < head.length) {
            return false;
        }
        for (int i = 0; i < head.length; i++) {
            if (ids[i] != head[i]) {
                return false;
            }
        }
        return true;
    }

    /** Length of the longest common prefix of all rows, starting at {@code from}. */
    public static int commonLength(List<long[]> rows, int from) {
        if (rows.isEmpty()) {
            return 0;
        }
        int n = rows.get(0).length;
        for (long[] r : rows) {
            n = Math.min(n, r.length);
        }
        int at = from;
        outer:
        while (at < n) {
            long v = rows.get(0)[at];
            for (long[] r : rows) {
                if (r[at] != v) {
                    break outer;
                }
            }
            at++;
        }
        return at - from;
    }
}
