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
 *    "session_arg": "--session"}
 * ]}
 * }</pre>
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
        PROCESS
    }

    /**
     * One catalog entry.
     *
     * @param descriptor id, display name and model
     * @param kind       which runner runs it
     * @param command    the command of a process agent (placeholders resolved), empty for a demo agent
     * @param sessionArg the option that passes the session id to a process agent, or {@code null}
     */
    public record Entry(AgentDescriptor descriptor, Kind kind, List<String> command, String sessionArg) {
        /** Copies the command. */
        public Entry {
            command = List.copyOf(command);
        }
    }

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
            if (runner.equals("demo")) {
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
                    text(a, "session_arg", false))) != null) {
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
