package io.labelscope.runtime.testing;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * config.json and generation_config.json of real Hugging Face checkpoints, field for field as published (keys,
 * value types, token ids, vocabulary size, rope settings), with only the widths and depths shrunk so a random
 * checkpoint of the shape is a few MB. Sources: the {@code config.json} / {@code generation_config.json} files of
 * meta-llama/Llama-3.2-1B-Instruct, Qwen/Qwen2.5-0.5B-Instruct, mistralai/Mistral-7B-v0.3 and
 * HuggingFaceTB/SmolLM2-135M on the Hugging Face Hub. Shrunk fields say what they were in a comment.
 */
public final class RealShapes {
    private RealShapes() {}

    /** One family: its config.json and generation_config.json (null when the checkpoint has none). */
    public record Family(String name, Map<String, Object> config, Map<String, Object> generationConfig) {
        /** A copy with {@code key} set (or removed, for null). */
        public Family with(String variant, String key, Object value) {
            Map<String, Object> c = new LinkedHashMap<>(config);
            if (value == null) {
                c.remove(key);
            } else {
                c.put(key, value);
            }
            return new Family(name + "/" + variant, c, generationConfig);
        }

        public TinyCheckpoint checkpoint(long seed) {
            return TinyCheckpoint.fromConfig(config, generationConfig, seed, 0.15);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Llama-3.2-1B-Instruct: llama3 rope scaling, GQA 32/8, tied embeddings, explicit head_dim, three EOS ids. */
    public static Family llama32() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", 128000);
        c.put("eos_token_id", List.of(128001, 128008, 128009));
        c.put("head_dim", 16);                 // 64
        c.put("hidden_act", "silu");
        c.put("hidden_size", 64);              // 2048
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", 128);       // 8192
        c.put("max_position_embeddings", 131072);
        c.put("mlp_bias", false);
        c.put("model_type", "llama");
        c.put("num_attention_heads", 8);       // 32
        c.put("num_hidden_layers", 2);         // 16
        c.put("num_key_value_heads", 2);       // 8
        c.put("pretraining_tp", 1);
        c.put("rms_norm_eps", 1e-05);
        Map<String, Object> rope = new LinkedHashMap<>();
        rope.put("factor", 32.0);
        rope.put("high_freq_factor", 4.0);
        rope.put("low_freq_factor", 1.0);
        // 8192: shrunk with the sequence lengths so that the test's positions reach the rescaled band.
        rope.put("original_max_position_embeddings", 32);
        rope.put("rope_type", "llama3");
        c.put("rope_scaling", rope);
        c.put("rope_theta", 500000.0);
        c.put("tie_word_embeddings", true);
        c.put("torch_dtype", "bfloat16");
        c.put("transformers_version", "4.45.0.dev0");
        c.put("use_cache", true);
        c.put("vocab_size", 128256);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("bos_token_id", 128000);
        g.put("do_sample", true);
        g.put("eos_token_id", List.of(128001, 128008, 128009));
        g.put("temperature", 0.6);
        g.put("top_p", 0.9);
        g.put("transformers_version", "4.45.0.dev0");
        return new Family("Llama-3.2-1B-Instruct", c, g);
    }

    /**
     * Qwen2.5-0.5B-Instruct: q/k/v biases, GQA 14/2, tied embeddings, {@code use_sliding_window: false} with a
     * {@code sliding_window} and {@code max_window_layers} present; EOS {@code <|im_end|>} in config.json and
     * {@code [<|im_end|>, <|endoftext|>]} in generation_config.json.
     */
    public static Family qwen25() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("Qwen2ForCausalLM"));
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", 151643);
        c.put("eos_token_id", 151645);
        c.put("hidden_act", "silu");
        c.put("hidden_size", 56);              // 896
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", 96);        // 4864
        c.put("max_position_embeddings", 32768);
        c.put("max_window_layers", 2);         // 21
        c.put("model_type", "qwen2");
        c.put("num_attention_heads", 7);       // 14
        c.put("num_hidden_layers", 4);         // 24
        c.put("num_key_value_heads", 1);       // 2
        c.put("rms_norm_eps", 1e-06);
        c.put("rope_theta", 1000000.0);
        c.put("sliding_window", 32768);
        c.put("tie_word_embeddings", true);
        c.put("torch_dtype", "bfloat16");
        c.put("transformers_version", "4.43.1");
        c.put("use_cache", true);
        c.put("use_sliding_window", false);
        c.put("vocab_size", 151936);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("bos_token_id", 151643);
        g.put("pad_token_id", 151643);
        g.put("do_sample", true);
        g.put("eos_token_id", List.of(151645, 151643));
        g.put("repetition_penalty", 1.1);
        g.put("temperature", 0.7);
        g.put("top_p", 0.8);
        g.put("top_k", 20);
        g.put("transformers_version", "4.37.0");
        return new Family("Qwen2.5-0.5B-Instruct", c, g);
    }

    /** Qwen2.5 with its sliding window switched on: window 5 on layers 2 and 3 (max_window_layers 2). */
    public static Family qwen25Windowed() {
        return qwen25().with("use_sliding_window", "use_sliding_window", true).with("window5", "sliding_window", 5);
    }

    /**
     * Mistral-7B-v0.3: GQA 32/8, untied head, vocabulary 32768, {@code sliding_window: null} as published; the
     * windowed variant sets it as Mistral-7B-v0.1 did (4096 there, 6 here).
     */
    public static Family mistral03() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("MistralForCausalLM"));
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", 1);
        c.put("eos_token_id", 2);
        c.put("hidden_act", "silu");
        c.put("hidden_size", 64);              // 4096
        c.put("initializer_range", 0.02);
        c.put("intermediate_size", 128);       // 14336
        c.put("max_position_embeddings", 32768);
        c.put("model_type", "mistral");
        c.put("num_attention_heads", 8);       // 32
        c.put("num_hidden_layers", 2);         // 32
        c.put("num_key_value_heads", 2);       // 8
        c.put("rms_norm_eps", 1e-05);
        c.put("rope_theta", 1000000.0);
        c.put("sliding_window", null);
        c.put("tie_word_embeddings", false);
        c.put("torch_dtype", "bfloat16");
        c.put("transformers_version", "4.42.0.dev0");
        c.put("use_cache", true);
        c.put("vocab_size", 32768);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("bos_token_id", 1);
        g.put("eos_token_id", 2);
        g.put("transformers_version", "4.42.0.dev0");
        return new Family("Mistral-7B-v0.3", c, g);
    }

    public static Family mistralWindowed() {
        return mistral03().with("window6", "sliding_window", 6);
    }

    /** SmolLM2-135M: 9 query heads over 3 KV heads (an odd head count), tied embeddings, no rope scaling. */
    public static Family smolLm2() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("attention_bias", false);
        c.put("attention_dropout", 0.0);
        c.put("bos_token_id", 0);
        c.put("eos_token_id", 0);
        c.put("hidden_act", "silu");
        c.put("hidden_size", 72);              // 576
        c.put("initializer_range", 0.041666666666666664);
        c.put("intermediate_size", 96);        // 1536
        c.put("is_llama_config", true);
        c.put("max_position_embeddings", 8192);
        c.put("mlp_bias", false);
        c.put("model_type", "llama");
        c.put("num_attention_heads", 9);
        c.put("num_hidden_layers", 3);         // 30
        c.put("num_key_value_heads", 3);
        c.put("pretraining_tp", 1);
        c.put("rms_norm_eps", 1e-05);
        c.put("rope_interleaved", false);
        c.put("rope_scaling", null);
        c.put("rope_theta", 100000);
        c.put("tie_word_embeddings", true);
        c.put("torch_dtype", "bfloat16");
        c.put("transformers_version", "4.40.1");
        c.put("use_cache", true);
        c.put("vocab_size", 49152);
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("bos_token_id", 0);
        g.put("eos_token_id", 0);
        g.put("transformers_version", "4.40.1");
        return new Family("SmolLM2-135M", c, g);
    }
}
