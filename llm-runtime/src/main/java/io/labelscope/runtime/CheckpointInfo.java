package io.labelscope.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelscope.runtime.model.ModelConfig;
import io.labelscope.runtime.model.SafeTensors;
import io.labelscope.runtime.model.TensorLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Facts about a checkpoint directory read from {@code config.json}, {@code generation_config.json} and the
 * safetensors headers only: no weight is read and no engine starts, so it is cheap for any size of model. What this
 * runtime cannot load is listed in {@link #unsupported} instead of thrown, so a caller can show all of it.
 *
 * @param directory the checkpoint directory
 * @param architecture {@code architectures[0]} of config.json, "" when absent
 * @param config the parsed config (with generation_config.json's tokens), null when config.json is unsupported
 * @param parameters elements over all stored tensors (tied embeddings counted once, as stored); -1 when the
 *     headers could not be read
 * @param parametersByFileDtype stored elements per safetensors dtype (e.g. {@code {BF16=494032768}})
 * @param shards safetensors file names, in load order
 * @param fileBytes total size of those files
 * @param largestTensor name of the tensor with the most elements ("" when none)
 * @param largestTensorElements its element count
 * @param bosTokenId start token id, -1 when none
 * @param eosTokenIds every id that stops generation (config.json and generation_config.json)
 * @param unsupported why {@link LlmModel#load} would refuse this checkpoint, empty when it is loadable
 */
public record CheckpointInfo(
        Path directory,
        String architecture,
        ModelConfig config,
        long parameters,
        Map<String, Long> parametersByFileDtype,
        List<String> shards,
        long fileBytes,
        String largestTensor,
        long largestTensorElements,
        int bosTokenId,
        List<Integer> eosTokenIds,
        List<String> unsupported) {

    public CheckpointInfo {
        parametersByFileDtype = Map.copyOf(parametersByFileDtype);
        shards = List.copyOf(shards);
        eosTokenIds = List.copyOf(eosTokenIds);
        unsupported = List.copyOf(unsupported);
    }

    /**
     * Memory a load needs.
     *
     * @param weightBytes the weights in the compute type, held on the device (host RAM for cpu, GPU memory for gpu)
     * @param hostStagingBytes host buffers the loader uses on top (two chunk buffers, whatever the model size)
     * @param largestTensorBytes the largest single allocation, which must fit in one piece
     */
    public record MemoryNeed(RuntimeConfig.ComputeType dtype, String device, long weightBytes, long hostStagingBytes,
                             long largestTensorBytes) {
        /** Host RAM the load needs beyond the JVM itself. */
        public long hostBytes() {
            return (device.startsWith("gpu") ? 0 : weightBytes) + hostStagingBytes;
        }

        /** GPU memory the weights need (0 on cpu); activations and the KV cache come on top. */
        public long deviceBytes() {
            return device.startsWith("gpu") ? weightBytes : 0;
        }
    }

    /** True when {@link LlmModel#load} accepts the config and tensor dtypes (shapes are checked only by a load). */
    public boolean loadable() {
        return unsupported.isEmpty();
    }

    /** Compute types this checkpoint can run in on {@code device}: F32, F16, plus BF16 on a GPU. */
    public static List<RuntimeConfig.ComputeType> computeTypes(String device) {
        return device.startsWith("gpu") ? List.of(RuntimeConfig.ComputeType.values())
                : List.of(RuntimeConfig.ComputeType.F32, RuntimeConfig.ComputeType.F16);
    }

    /** Memory needed to load in {@code dtype} on {@code device} ("cpu", "gpu", "gpu:N"). */
    public MemoryNeed memory(RuntimeConfig.ComputeType dtype, String device) {
        long weights = Math.max(parameters, 0) * dtype.bytes;
        return new MemoryNeed(dtype, device, weights, 2L * TensorLoader.DEFAULT_CHUNK_BYTES,
                largestTensorElements * dtype.bytes);
    }

    /** Reads the facts of {@code dir}; throws only when {@code dir} is not a directory. */
    public static CheckpointInfo inspect(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException("not a checkpoint directory: " + dir);
        }
        List<String> unsupported = new ArrayList<>();
        String arch = "";
        ModelConfig cfg = null;
        int bos = -1;
        List<Integer> eos = List.of();
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) {
            unsupported.add("missing file: " + configFile);
        } else {
            try {
                JsonNode archs = new ObjectMapper().readTree(configFile.toFile()).path("architectures");
                arch = archs.isArray() && !archs.isEmpty() ? archs.get(0).asText() : "";
            } catch (IOException e) {
                unsupported.add("cannot parse " + configFile + ": " + e.getMessage());
            }
            try {
                cfg = ModelConfig.load(dir);
                bos = cfg.bosTokenId();
                eos = cfg.eosTokenIds();
            } catch (ModelLoadException e) {
                if (unsupported.isEmpty()) {
                    unsupported.add(e.getMessage());
                }
            }
        }
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            unsupported.add("missing file: " + dir.resolve("tokenizer.json"));
        }
        long params = -1;
        Map<String, Long> byDtype = new LinkedHashMap<>();
        TreeSet<String> shardNames = new TreeSet<>();
        long fileBytes = 0;
        String largest = "";
        long largestElements = 0;
        try {
            SafeTensors st = SafeTensors.open(dir);
            params = 0;
            for (SafeTensors.Entry e : st.entries().values()) {
                long n = e.elements();
                params += n;
                byDtype.merge(e.dtype().name(), n, Long::sum);
                shardNames.add(e.file().getFileName().toString());
                if (n > largestElements) {
                    largestElements = n;
                    largest = e.name();
                }
            }
            for (String s : shardNames) {
                fileBytes += Files.size(dir.resolve(s));
            }
        } catch (ModelLoadException e) {
            unsupported.add(e.getMessage());
        } catch (IOException e) {
            unsupported.add("cannot read " + dir + ": " + e.getMessage());
        }
        return new CheckpointInfo(dir, arch, cfg, params, byDtype, new ArrayList<>(shardNames), fileBytes, largest,
                largestElements, bos, eos, unsupported);
    }
}
