package io.labelscope.runtime.decode;

import io.labelscope.runtime.LlmModel;
import io.labelscope.runtime.task.AnswerParser;
import io.labelscope.runtime.task.LabelSpace;
import io.labelscope.runtime.task.PromptRenderer;
import io.labelscope.runtime.task.TaskDefinition;
import java.util.ArrayList;
import java.util.List;

/**
 * A task bound to a model: renders prompts, keeps the instruction+demos prefix cache (when {@code reusePrefix}),
 * decodes documents in batches and turns captured steps into {@link LabelStepRecord}s. Close it to free the prefix
 * cache. One call at a time.
 */
public final class LabelDecoder implements AutoCloseable {
    private final LlmModel model;
    private final TaskDefinition task;
    private final PromptRenderer renderer;
    private final LabelSpace space;
    private final GreedyDecoder decoder;
    private final PromptTokens tokens;
    private final GreedyDecoder.Prefix prefix;

    public LabelDecoder(LlmModel model, TaskDefinition task, boolean reusePrefix) {
        this.model = model;
        this.task = task;
        this.renderer = PromptRenderer.forModel(task, model);
        this.space = new LabelSpace(model, renderer);
        this.decoder = new GreedyDecoder(model);
        // Every prompt is tokenised whole; the cache holds the head its ids all begin with (PromptTokens), so reuse
        // never changes the token ids.
        this.tokens = new PromptTokens(model, renderer.prefix(), renderer.addSpecialTokens());
        this.prefix = reusePrefix ? decoder.prefill(tokens.head()) : null;
    }

    public PromptRenderer renderer() {
        return renderer;
    }

    public LabelSpace labelSpace() {
        return space;
    }

    public TaskDefinition task() {
        return task;
    }

    /** Prompt token ids of one document, as the model reads them: the whole rendered prompt tokenised in one piece. */
    public long[] promptIds(String text) {
        return tokens.encode(renderer.prompt(text));
    }

    /** Greedy-decodes each document and records its label steps. */
    public List<GenerationResult> classify(List<String> documents) {
        return run(documents, null);
    }

    /**
     * Scores given answers instead of generating (teacher forcing): each answer is emitted token by token as the
     * model would read it after its prompt (the tail of tokenising prompt + answer in one piece); steps, logits and
     * parsing are recorded exactly as in {@link #classify}.
     */
    public List<GenerationResult> score(List<String> documents, List<String> answers) {
        return run(documents, answers);
    }

    private List<GenerationResult> run(List<String> documents, List<String> answers) {
        int n = documents.size();
        List<PromptTokens.Split> splits = new ArrayList<>(n);
        List<long[]> forced = answers == null ? null : new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String prompt = renderer.prompt(documents.get(i));
            PromptTokens.Split s = tokens.split(prompt);
            splits.add(s);
            if (forced != null) {
                forced.add(tokens.continuation(prompt, s.ids(), answers.get(i)));
            }
        }
        long t0 = System.nanoTime();
        GreedyDecoder.Raw[] raws = new GreedyDecoder.Raw[n];
        // Rows whose ids begin with the cached head run on it; any other row (or every row without reuse) runs whole.
        List<Integer> onHead = new ArrayList<>();
        List<Integer> whole = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            (prefix != null && splits.get(i).onHead() ? onHead : whole).add(i);
        }
        decodeRows(prefix, onHead, splits, forced, raws);
        decodeRows(null, whole, splits, forced, raws);
        long latency = System.nanoTime() - t0;
        List<GenerationResult> out = new ArrayList<>(n);
        for (GreedyDecoder.Raw r : raws) {
            out.add(toResult(r, latency));
        }
        return out;
    }

    private void decodeRows(GreedyDecoder.Prefix head, List<Integer> rows, List<PromptTokens.Split> splits,
                            List<long[]> forced, GreedyDecoder.Raw[] out) {
        if (rows.isEmpty()) {
            return;
        }
        List<long[]> prompts = new ArrayList<>(rows.size());
        List<long[]> rowForced = forced == null ? null : new ArrayList<>(rows.size());
        for (int i : rows) {
            prompts.add(head != null ? splits.get(i).rest() : splits.get(i).ids());
            if (rowForced != null) {
                rowForced.add(forced.get(i));
            }
        }
        List<GreedyDecoder.Raw> raws = decoder.decode(head, prompts, rowForced,
                GreedyDecoder.Options.of(task.maxNewTokens()),
                new GreedyDecoder.Capture(space, task.format(), task.compatCode()));
        for (int j = 0; j < rows.size(); j++) {
            out[rows.get(j)] = raws.get(j);
        }
    }

    private GenerationResult toResult(GreedyDecoder.Raw r, long latency) {
        List<LabelStepRecord> steps = new ArrayList<>();
        int promptTokens = r.promptTokens();
        for (GreedyDecoder.RawStep s : r.steps()) {
            double[] raw = new double[s.logits().length];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < raw.length; i++) {
                raw[i] = s.logits()[i];
                max = Math.max(max, raw[i]);
            }
            double[] p = new double[raw.length];
            double sum = 0;
            for (int i = 0; i < raw.length; i++) {
                p[i] = Math.exp(raw[i] - max);
                sum += p[i];
            }
            for (int i = 0; i < raw.length; i++) {
                p[i] /= sum;
            }
            steps.add(new LabelStepRecord(steps.size(), AnswerParser.elementAt(r.text(), s.charStart()), raw, p,
                    s.tokenIndex(), promptTokens + s.tokenIndex(), s.tokenId()));
        }
        return new GenerationResult(r.text(), AnswerParser.parse(r.text(), task), List.copyOf(steps),
                task.scoredLabels(), r.stop(), promptTokens, r.ids(), latency);
    }

    @Override
    public void close() {
        if (prefix != null) {
            prefix.close();
        }
    }
}
