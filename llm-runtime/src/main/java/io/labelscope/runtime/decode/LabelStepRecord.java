package io.labelscope.runtime.decode;

/**
 * One label generation step (SPEC §1): where the token just generated is the first token of a label or of
 * {@code none}, inside the answer list.
 *
 * @param step 0-based step index within the answer
 * @param generatedLabel the list element written from this token on, lower-cased, as generated (may be an unknown
 *     string, {@code none}, or null when nothing readable follows)
 * @param rawLogits first-token logit of each label then {@code none} (max over the label's surface variants)
 * @param probabilities softmax of {@code rawLogits} (sums to 1 over labels + none)
 * @param tokenIndex index of the token among the generated tokens (0 = first new token)
 * @param tokenPosition its position in the whole sequence (prompt tokens + tokenIndex)
 * @param tokenId the generated token
 */
public record LabelStepRecord(int step, String generatedLabel, double[] rawLogits, double[] probabilities,
                              int tokenIndex, int tokenPosition, long tokenId) {}
