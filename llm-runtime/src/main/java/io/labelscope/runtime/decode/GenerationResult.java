package io.labelscope.runtime.decode;

import java.util.List;

/**
 * One document's decoding.
 *
 * @param answer generated text up to the stop (the demo marker and what follows are cut)
 * @param parsedLabels the answer parsed per SPEC §2 (lower-case, in order, repeats and unknown strings kept)
 * @param steps label generation steps; arrays ordered as {@code scoredLabels}
 * @param scoredLabels the task's labels then {@code none}
 * @param promptTokens tokens in the prompt (prefix + query)
 * @param generatedIds all generated token ids, including a final EOS or marker tokens
 * @param latencyNanos wall time of the batch this document was decoded in
 */
public record GenerationResult(String answer, List<String> parsedLabels, List<LabelStepRecord> steps,
                               List<String> scoredLabels, StopReason stopReason, int promptTokens,
                               long[] generatedIds, long latencyNanos) {
    public int generatedTokens() {
        return generatedIds.length;
    }
}
