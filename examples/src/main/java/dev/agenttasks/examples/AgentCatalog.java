package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agenttasks.spi.AgentDescriptor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The agents a host offers, read from a small JSON file:
 *
 * <pre>{@code
 * {"agents": [
 *   {"id": "demo", "name": "Demo agent", "model": "demo-1", "runner": "demo"},
 *   {"id": "cli", "name": "CLI agent", "model": "echo-1", "runner": "process",
 *    "command": ["{java}", "-cp", "{classpath}", "dev.agenttasks.examples.ExampleCliAgent"],
 *    "session_arg": "--session"},
 *   {"id": "gpt", "name": "GPT assistant", "model": "gpt-4o-mini", "runner": "openai",
 *    "base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY",
 *    "system_prompt": "You are a helpful assistant."}
 * ]}
 * }</pre>
 *
 * An {@code openai} agent talks to any OpenAI-compatible chat-completions endpoint (OpenAI, a local
 * Ollama at {@code http://localhost:11434/v1}, vLLM, …) through LangChain4j: {@code model} and
 * {@code base_url} are required; the API key is read from the environment variable named by
 * {@code api_key_env} (never written in the file; leave it out for servers without keys);
 * {@code system_prompt} is optional.
 *
 * In a {@code command}, {@code {java}} stands for this JVM's {@code java} launcher and {@code {classpath}}
 * for the class path of the bundled example CLI agent.
 */
public final class AgentCatalog {

    /** The runner kinds a catalog entry may name. */
    public enum Kind {
        /** {@link DemoAgentRunner}: scripted, no network. */
        DEMO,
        /** {@link ProcessAgentRunner}: a command per turn, JSON lines out. */
        PROCESS,
        /** A LangChain4j agent on an OpenAI-compatible endpoint ({@link OpenAiAgents}). */
        OPENAI
    }

    /**
     * The settings of an {@code openai} agent.
     *
     * @param baseUrl      the endpoint's base URL, for example {@code https://api.openai.com/v1}
     * @param apiKeyEnv    the environment variable holding the API key, or {@code null} if none is needed
     * @param systemPrompt the system prompt, or {@code null}
     */
    public record OpenAiSettings(String baseUrl, String apiKeyEnv, String systemPrompt) {
    }

    /**
     * One catalog entry.
     *
     * @param descriptor id, display name and model
     * @param kind       which runner runs it
     * @param command    the command of a process agent (placeholders resolved), empty for a demo agent
     * @param sessionArg the option that passes the session id to a process agent, or {@code null}
     * @param openAi     the settings of an {@code openai} agent, {@code null} for other kinds
     */
    public record Entry(AgentDescriptor descriptor, Kind kind, List<String> command, String sessionArg,
                        OpenAiSettings openAi) {
        /** Copies the command. */
        public Entry {
            command = List.copyOf(command);
        }

        /**
         * An entry of a demo or process agent.
         *
         * @param descriptor id, display name and model
         * @param kind       which runner runs it
         * @param command    the command of a process agent, empty for a demo agent
         * @param sessionArg the option that passes the session id to a process agent, or {@code null}
         */
        public Entry(AgentDescriptor descriptor, Kind kind, List<String> command, String sessionArg) {
            this(descriptor, kind, command, sessionArg, null);
        }
    }

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private final Map<String, Entry> entries;

    private AgentCatalog(Map<String, Entry> entries) {
        this.entries = entries;
    }

    /** @return the catalog bundled with the example ({@code agents.json} on the class path) */
    public static AgentCatalog bundled() {
        try (InputStream in = AgentCatalog.class.getResourceAsStream("/agents.json")) {
            if (in == null) {
                throw new IllegalStateException("agents.json is missing from the class path");
            }
            return parse(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param file a catalog file
     * @return its agents
     * @throws IllegalArgumentException if the file is not a valid catalog
     */
    public static AgentCatalog load(Path file) {
        try {
            return parse(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException("can not read agent catalog " + file, e);
        }
    }

    /**
     * @param json catalog JSON
     * @return its agents
     * @throws IllegalArgumentException if the JSON is not a valid catalog
     */
    public static AgentCatalog parse(byte[] json) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("agent catalog is not valid JSON: " + e.getMessage(), e);
        }
        JsonNode agents = root == null ? null : root.get("agents");
        if (agents == null || !agents.isArray() || agents.isEmpty()) {
            throw new IllegalArgumentException("agent catalog needs a non-empty \"agents\" array");
        }
        Map<String, Entry> out = new LinkedHashMap<>();
        for (JsonNode a : agents) {
            String id = text(a, "id", true);
            if (!ID.matcher(id).matches()) {
                throw new IllegalArgumentException("bad agent id: " + id);
            }
            String name = Optional.ofNullable(text(a, "name", false)).orElse(id);
            String model = text(a, "model", false);
            String runner = Optional.ofNullable(text(a, "runner", false)).orElse("demo");
            Kind kind;
            List<String> command = new ArrayList<>();
            OpenAiSettings openAi = null;
            if (runner.equals("openai")) {
                kind = Kind.OPENAI;
                openAi = openAi(a, id, model);
            } else if (runner.equals("demo")) {
                kind = Kind.DEMO;
            } else if (runner.equals("process")) {
                kind = Kind.PROCESS;
                JsonNode cmd = a.get("command");
                if (cmd == null || !cmd.isArray() || cmd.isEmpty()) {
                    throw new IllegalArgumentException("process agent " + id + " needs a \"command\" array");
                }
                for (JsonNode part : cmd) {
                    if (!part.isTextual()) {
                        throw new IllegalArgumentException("command of agent " + id + " must be strings");
                    }
                    command.add(resolve(part.asText()));
                }
            } else {
                throw new IllegalArgumentException("agent " + id + ": unknown runner " + runner);
            }
            if (out.put(id, new Entry(new AgentDescriptor(id, name, model), kind, command,
                    text(a, "session_arg", false), openAi)) != null) {
                throw new IllegalArgumentException("duplicate agent id: " + id);
            }
        }
        return new AgentCatalog(out);
    }

    /** @return the entries in file order */
    public List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    /**
     * @param id an agent id
     * @return its entry, if any
     */
    public Optional<Entry> get(String id) {
        return Optional.ofNullable(id == null ? null : entries.get(id));
    }

    private static OpenAiSettings openAi(JsonNode a, String id, String model) {
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("openai agent " + id + " needs a \"model\"");
        }
        String baseUrl = text(a, "base_url", false);
        if (baseUrl == null || !(baseUrl.startsWith("http://") || baseUrl.startsWith("https://"))) {
            throw new IllegalArgumentException("openai agent " + id + " needs a \"base_url\" starting with http:// or https://");
        }
        try {
            java.net.URI uri = new java.net.URI(baseUrl);
            if (uri.getHost() == null) {
                throw new URISyntaxException(baseUrl, "no host");
            }
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("openai agent " + id + ": bad base_url " + baseUrl + ": " + e.getMessage(), e);
        }
        String env = text(a, "api_key_env", false);
        if (env != null && !ENV_NAME.matcher(env).matches()) {
            throw new IllegalArgumentException("openai agent " + id + ": api_key_env must name an environment variable: " + env);
        }
        if (a.has("api_key")) {
            throw new IllegalArgumentException("openai agent " + id
                    + ": put the key in an environment variable and name it in \"api_key_env\", not in the file");
        }
        return new OpenAiSettings(baseUrl, env, text(a, "system_prompt", false));
    }

    private static String text(JsonNode node, String field, boolean required) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new IllegalArgumentException("agent entry needs \"" + field + "\": " + node);
            }
            return null;
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a string: " + node);
        }
        return v.asText();
    }

    private static String resolve(String part) {
        if (part.contains("{java}")) {
            part = part.replace("{java}", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        }
        if (part.contains("{classpath}")) {
            part = part.replace("{classpath}", cliAgentClassPath());
        }
        return part;
    }

    /** The class path the example CLI agent needs: these classes and Jackson. */
    static String cliAgentClassPath() {
        List<String> parts = new ArrayList<>();
        for (Class<?> c : List.of(ExampleCliAgent.class, com.fasterxml.jackson.databind.ObjectMapper.class,
                com.fasterxml.jackson.core.JsonFactory.class,
                com.fasterxml.jackson.annotation.JsonProperty.class)) {
            try {
                String p = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
                if (!parts.contains(p)) {
                    parts.add(p);
                }
            } catch (URISyntaxException | NullPointerException | SecurityException e) {
                throw new IllegalStateException("can not locate the class path of " + c.getName(), e);
            }
        }
        return String.join(java.io.File.pathSeparator, parts);
    }
}
