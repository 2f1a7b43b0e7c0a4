package io.labelscope.runtime.task;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.labelscope.runtime.ModelLoadException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A checkpoint's chat template: the Jinja program in {@code tokenizer_config.json} ({@code chat_template}, a string
 * or a list of named templates of which {@code default} is used) or in {@code chat_template.jinja}, rendered with
 * Jinjava the way {@code transformers}' {@code apply_chat_template} renders it: {@code trim_blocks} and
 * {@code lstrip_blocks} on, the variables {@code messages}, {@code add_generation_prompt}, {@code bos_token},
 * {@code eos_token} (and {@code unk_token}, {@code pad_token} where the config names them), and
 * {@code raise_exception(msg)}, which fails the render with the template's message.
 */
public final class ChatTemplate {

    /** One chat message. */
    public record Message(String role, String content) {}

    private static final Jinjava JINJAVA = newEngine();

    private final String source;
    private final Map<String, String> specialTokens;

    /** @param specialTokens {@code bos_token}, {@code eos_token}, ... as the template refers to them */
    public ChatTemplate(String source, Map<String, String> specialTokens) {
        this.source = source;
        this.specialTokens = Map.copyOf(specialTokens);
    }

    /**
     * The chat template of a checkpoint directory, or empty when it has none. A malformed
     * {@code tokenizer_config.json} is a {@link ModelLoadException} naming the file.
     */
    public static Optional<ChatTemplate> load(Path dir) {
        Path config = dir.resolve("tokenizer_config.json");
        Path jinjaFile = dir.resolve("chat_template.jinja");
        Map<String, String> specials = new LinkedHashMap<>();
        String source = null;
        if (Files.isRegularFile(config)) {
            JsonNode root;
            try {
                root = new ObjectMapper().readTree(config.toFile());
            } catch (IOException e) {
                throw new ModelLoadException("cannot parse " + config + ": " + e.getMessage(), e);
            }
            for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
                JsonNode t = root.get(key);
                if (t != null && t.isTextual()) {
                    specials.put(key, t.asText());
                } else if (t != null && t.isObject() && t.path("content").isTextual()) {
                    specials.put(key, t.get("content").asText());
                }
            }
            JsonNode tpl = root.get("chat_template");
            if (tpl != null && tpl.isTextual()) {
                source = tpl.asText();
            } else if (tpl != null && tpl.isArray()) {
                for (JsonNode named : tpl) {
                    if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                        source = named.get("template").asText();
                    }
                }
                if (source == null) {
                    throw new ModelLoadException(config + ": 'chat_template' lists named templates but none is "
                            + "named 'default'");
                }
            } else if (tpl != null && !tpl.isNull()) {
                throw new ModelLoadException(config + ": 'chat_template' must be a string or a list of "
                        + "{name, template}");
            }
        }
        if (source == null && Files.isRegularFile(jinjaFile)) {
            try {
                source = Files.readString(jinjaFile, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new ModelLoadException("cannot read " + jinjaFile + ": " + e.getMessage(), e);
            }
        }
        return source == null ? Optional.empty() : Optional.of(new ChatTemplate(source, specials));
    }

    public String source() {
        return source;
    }

    public Map<String, String> specialTokens() {
        return specialTokens;
    }

    /**
     * Renders messages; with {@code addGenerationPrompt} the template appends the opening of the assistant's turn.
     * A template error (a {@code raise_exception} call, a syntax error) is an {@link IllegalArgumentException} with
     * the template's message.
     */
    public String render(List<Message> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> msgs = new ArrayList<>(messages.size());
        for (Message m : messages) {
            Map<String, Object> o = new HashMap<>();
            o.put("role", m.role());
            o.put("content", m.content());
            msgs.add(o);
        }
        Map<String, Object> vars = new HashMap<>(specialTokens);
        vars.put("messages", msgs);
        vars.put("add_generation_prompt", addGenerationPrompt);
        RenderResult r = JINJAVA.renderForResult(source, vars);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new IllegalArgumentException("chat template failed: " + rootMessage(e));
            }
        }
        return r.getOutput();
    }

    /** The innermost cause's message: a raise_exception call's own text, not Jinjava's wrapper around it. */
    private static String rootMessage(TemplateError e) {
        Throwable t = e.getException();
        String msg = e.getMessage();
        while (t != null) {
            if (t.getMessage() != null) {
                msg = t.getMessage();
            }
            t = t.getCause();
        }
        return msg;
    }

    /** The template's {@code raise_exception(message)}: fails the render. */
    public static String raiseException(String message) {
        throw new IllegalArgumentException(message);
    }

    private static Jinjava newEngine() {
        // Jinja (Python) semantics where Jinjava's defaults differ: filters bind tighter than '+'
        // ('a' + x | trim + 'b' trims x only), whitespace control as Jinja parses it, also on {{- expressions -}}.
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .build())
                .build();
        Jinjava j = new Jinjava(config);
        j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception", ChatTemplate.class,
                "raiseException", String.class));
        return j;
    }
}
