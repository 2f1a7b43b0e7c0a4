package io.labelscope.runtime.decode;

/** Why a sequence stopped: end-of-sequence token, the demo marker ({@code Input:}), or the new-token limit. */
public enum StopReason { EOS, MARKER, MAX_TOKENS }
