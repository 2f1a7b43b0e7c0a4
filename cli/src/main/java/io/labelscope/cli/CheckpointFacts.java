package io.labelscope.cli;

import io.labelscope.runtime.ModelLoadException;
import io.labelscope.runtime.model.ModelConfig;
import io.labelscope.runtime.model.SafeTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What {@code labelscope model inspect} says about a checkpoint directory without loading its weights. One small
 * interface so the command does not depend on how the facts are gathered: {@link #of} reads them through the
 * runtime's own config and safetensors readers, whose checks are the ones loading applies, so "supported" here means
 * "loads".
 */
interface CheckpointFacts {

    String architecture();

    /** Layers, hidden size, heads, KV heads, head dim, vocabulary, tied embeddings, RoPE. */
    String shape();

    /** Stored parameters (tensor elements in the files). */
    long parameters();

    /** Stored parameters per file dtype ({@code F32}, {@code F16}, {@code BF16}). */
    Map<String, Long> parametersByFileDtype();

    /** The weight files (one, or the shards of model.safetensors.index.json). */
    List<String> files();

    long fileBytes();

    /** Bytes the weights take on the device when computed in {@code computeBytes}-byte elements. */
    long weightBytes(int computeBytes);

    /** KV cache bytes per token of context, per sequence, in {@code computeBytes}-byte elements. */
    long kvBytesPerToken(int computeBytes);

    /** -1 when config.json names none. */
    int bosTokenId();

    List<Integer> eosTokenIds();

    /**
     * Reads config.json and the safetensors headers. An unsupported architecture, RoPE scaling type or tensor dtype
     * is a {@link ModelLoadException} whose message is the runtime's one line.
     */
    static CheckpointFacts of(Path dir) {
        ModelConfig cfg = ModelConfig.load(dir);
        SafeTensors st = SafeTensors.open(dir);
        Map<String, Long> byDtype = new TreeMap<>();
        TreeSet<Path> files = new TreeSet<>();
        long params = 0;
        for (SafeTensors.Entry e : st.entries().values()) {
            params += e.elements();
            byDtype.merge(e.dtype().name(), e.elements(), Long::sum);
            files.add(e.file());
        }
        long bytes = 0;
        for (Path f : files) {
            try {
                bytes += Files.size(f);
            } catch (IOException e) {
                throw new ModelLoadException("cannot read " + f + ": " + e.getMessage(), e);
            }
        }
        long storedParams = params;
        long storedBytes = bytes;
        List<String> names = files.stream().map(p -> p.getFileName().toString()).toList();
        return new CheckpointFacts() {
            @Override
            public String architecture() {
                return cfg.architecture();
            }

            @Override
            public String shape() {
                String rope = "rope_theta " + cfg.ropeTheta() + (cfg.ropeScaling() == null ? ", no rope scaling"
                        : ", rope_scaling " + cfg.ropeScaling().type() + " x" + cfg.ropeScaling().factor());
                return cfg.numLayers() + " layers, hidden " + cfg.hiddenSize() + ", intermediate "
                        + cfg.intermediateSize() + ", " + cfg.numHeads() + " heads / " + cfg.numKvHeads()
                        + " KV heads, head_dim " + cfg.headDim() + ", vocab " + cfg.vocabSize()
                        + (cfg.tieWordEmbeddings() ? ", tied embeddings" : "") + ", " + rope
                        + ", max positions " + cfg.maxPositionEmbeddings();
            }

            @Override
            public long parameters() {
                return storedParams;
            }

            @Override
            public Map<String, Long> parametersByFileDtype() {
                return byDtype;
            }

            @Override
            public List<String> files() {
                return names;
            }

            @Override
            public long fileBytes() {
                return storedBytes;
            }

            @Override
            public long weightBytes(int computeBytes) {
                return storedParams * computeBytes;
            }

            @Override
            public long kvBytesPerToken(int computeBytes) {
                return 2L * cfg.numLayers() * cfg.numKvHeads() * cfg.headDim() * computeBytes;
            }

            @Override
            public int bosTokenId() {
                return cfg.bosTokenId();
            }

            @Override
            public List<Integer> eosTokenIds() {
                return cfg.eosTokenIds();
            }
        };
    }
}
