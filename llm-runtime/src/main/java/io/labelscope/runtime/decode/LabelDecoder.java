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
    private final long[] prefixIds;
    private final GreedyDecoder.Prefix prefix;

    public LabelDecoder(LlmModel model, TaskDefinition task, boolean reusePrefix) {
        this.model = model;
        this.task = task;
        this.renderer = new PromptRenderer(task);
        this.space = new LabelSpace(model, renderer);
        this.decoder = new GreedyDecoder(model);
        // Prefix and query are tokenised separately in both modes, so reuse never changes the token ids.
        this.prefixIds = model.encode(renderer.prefix(), true);
        this.prefix = reusePrefix ? decoder.prefill(prefixIds) : null;
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

    /** Prompt token ids of one document: prefix (with BOS) then the query. */
    public long[] promptIds(String text) {
        long[] q = model.encode(renderer.query(text), false);
        long[] all = new long[prefixIds.length + q.length];
        System.arraycopy(prefixIds, 0, all, 0, prefixIds.length);
        System.arraycopy(q, 0, all, prefixIds.length, q.length);
        return all;
    }

    /** Greedy-decodes each document and records its label steps. */
    public List<GenerationResult> classify(List<String> documents) {
        return run(documents, null);
    }

    /**
     * Scores given answers instead of generating (teacher forcing): the answer text is tokenised and emitted token
     * by token; steps, logits and parsing are recorded exactly as in {@link #classify}.
     */
    public List<GenerationResult> score(List<String> documents, List<String> answers) {
        List<long[]> forced = new ArrayList<>();
        for (String a : answers) {
            forced.add(model.encode(a, false));
        }
        return run(documents, forced);
    }

    private List<GenerationResult> run(List<String> documents, List<long[]> forced) {
        List<long[]> prompts = new ArrayList<>(documents.size());
        for (String d : documents) {
            long[] q = model.encode(renderer.query(d), false);
            prompts.add(prefix != null ? q : promptIds(d));
        }
        long t0 = System.nanoTime();
        List<GreedyDecoder.Raw> raws = decoder.decode(prefix, prompts, forced,
                GreedyDecoder.Options.of(task.maxNewTokens()),
                new GreedyDecoder.Capture(space, task.format(), task.compatCode()));
        long latency = System.nanoTime() - t0;
        List<GenerationResult> out = new ArrayList<>(raws.size());
        for (GreedyDecoder.Raw r : raws) {
            out.add(toResult(r, latency));
        }
        return out;
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
