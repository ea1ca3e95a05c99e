package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.MessageStrategy;
import dev.agenttasks.SendOptions;
import dev.agenttasks.TaskRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads the JSON bodies of {@code POST /api/tasks} and {@code POST /api/tasks/{id}/message} into the
 * library's requests. Every rule is checked before anything is created, and a violation is a 400 naming
 * the field (415 for a body that is not JSON).
 */
final class RequestBodies {

    private static final Logger log = LoggerFactory.getLogger(RequestBodies.class);
    private static final Set<String> CREATE_FIELDS = Set.of("agent_id", "message", "content", "enable_skills",
            "enable_mcp", "add_dirs", "metadata", "title", "work_dir", "timeout_seconds", "options");
    private static final Set<String> MESSAGE_FIELDS = Set.of("message", "content", "strategy");

    private final HostConfig config;

    RequestBodies(HostConfig config) {
        this.config = config;
    }

    /** @return the body of a create request as a task request */
    TaskRequest createRequest(Exchange ex) throws IOException {
        ObjectNode body = jsonBody(ex);
        rejectUnknown(body, CREATE_FIELDS);
        String agentId = optionalText(body, "agent_id");
        if (agentId == null) {
            throw ApiException.badRequest("agent_id", "agent_id is required");
        }
        TaskRequest.Builder b = TaskRequest.builder(agentId);
        b.idempotencyKey(idempotencyKey(ex));
        TaskMessage message = message(body, false);
        if (message != null) {
            b.message(message);
        }
        Map<String, Object> options = new LinkedHashMap<>();
        if (body.has("options") && !body.get("options").isNull()) {
            if (!body.get("options").isObject()) {
                throw ApiException.badRequest("options", "options must be an object");
            }
            options.putAll(Json.toMap(body.get("options")));
        }
        for (String flag : List.of("enable_skills", "enable_mcp")) {
            JsonNode v = body.get(flag);
            if (v != null && !v.isNull()) {
                if (!v.isBoolean()) {
                    throw ApiException.badRequest(flag, flag + " must be true or false");
                }
                options.put(flag, v.booleanValue());
            }
        }
        List<String> addDirs = stringList(body, "add_dirs");
        if (addDirs != null) {
            List<String> checked = new ArrayList<>();
            for (String dir : addDirs) {
                checked.add(checkedDir("add_dirs", dir));
            }
            addDirs = checked;
            options.put("add_dirs", addDirs);
        }
        b.options(options);
        String workDir = optionalText(body, "work_dir");
        if (workDir != null) {
            workDir = checkedDir("work_dir", workDir);
        }
        if (workDir == null && addDirs != null && !addDirs.isEmpty()) {
            workDir = addDirs.get(0);
        }
        b.workDir(workDir);
        b.title(optionalText(body, "title"));
        metadata(body, b);
        JsonNode timeout = body.get("timeout_seconds");
        if (timeout != null && !timeout.isNull()) {
            if (!timeout.isNumber() || timeout.asDouble() <= 0 || timeout.asDouble() > 7 * 24 * 3600) {
                throw ApiException.badRequest("timeout_seconds", "timeout_seconds must be a positive number of seconds");
            }
            b.timeout(Duration.ofMillis((long) (timeout.asDouble() * 1000)));
        }
        return b.build();
    }

    /** @return the body of a follow-up message request */
    /** A follow-up message and how to send it: {@code strategy} in the body, {@code Idempotency-Key} header. */
    record FollowUp(TaskMessage message, SendOptions options) {
    }

    /** @return the body of a message request, with its strategy and idempotency key */
    FollowUp followUpWithOptions(Exchange ex) throws IOException {
        ObjectNode body = jsonBody(ex);
        rejectUnknown(body, MESSAGE_FIELDS);
        TaskMessage message = message(body, true);
        MessageStrategy strategy = null;
        String s = optionalText(body, "strategy");
        if (s != null) {
            try {
                strategy = MessageStrategy.valueOf(s.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("strategy", "strategy must be enqueue, reject or interrupt");
            }
        }
        return new FollowUp(message, new SendOptions(strategy, idempotencyKey(ex)));
    }

    /** The IETF draft's {@code Idempotency-Key} header (quotes around the value are dropped), or null. */
    private static String idempotencyKey(Exchange ex) {
        String key = ex.header("Idempotency-Key");
        if (key == null) {
            return null;
        }
        key = key.trim();
        if (key.length() >= 2 && key.startsWith("\"") && key.endsWith("\"")) {
            key = key.substring(1, key.length() - 1);
        }
        if (key.isEmpty()) {
            throw ApiException.badRequest("Idempotency-Key", "the Idempotency-Key header must not be empty");
        }
        return key;
    }

    private static void metadata(ObjectNode body, TaskRequest.Builder b) {
        JsonNode metadata = body.get("metadata");
        if (metadata == null || metadata.isNull()) {
            return;
        }
        if (!metadata.isObject()) {
            throw ApiException.badRequest("metadata", "metadata must be an object of strings");
        }
        Iterator<Map.Entry<String, JsonNode>> it = metadata.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw ApiException.badRequest("metadata", "metadata values must be strings: " + e.getKey());
            }
            b.metadata(e.getKey(), e.getValue().asText());
        }
    }

    private ObjectNode jsonBody(Exchange ex) throws IOException {
        if (!HttpIo.isJson(ex)) {
            throw new ApiException(415, "Content-Type", "the body must be application/json");
        }
        return Json.object(HttpIo.readBody(ex, config.maxBodyBytes()));
    }

    /** Reads {@code message} (text) or {@code content} (blocks); exactly one when required, at most one otherwise. */
    private static TaskMessage message(ObjectNode body, boolean required) {
        JsonNode text = body.get("message");
        JsonNode content = body.get("content");
        boolean hasText = text != null && !text.isNull();
        boolean hasContent = content != null && !content.isNull();
        if (hasText && hasContent) {
            throw ApiException.badRequest("message", "give message or content, not both");
        }
        if (hasText) {
            if (!text.isTextual()) {
                throw ApiException.badRequest("message", "message must be a string");
            }
            return TaskMessage.text(text.asText());
        }
        if (hasContent) {
            if (!content.isArray()) {
                throw ApiException.badRequest("content", "content must be an array of content blocks");
            }
            for (JsonNode block : content) {
                if (!block.isObject()) {
                    throw ApiException.badRequest("content", "each content block must be an object");
                }
            }
            return TaskMessage.content(Json.toListOfMaps(content));
        }
        if (required) {
            throw ApiException.badRequest("message", "message or content is required");
        }
        return null;
    }

    private static void rejectUnknown(ObjectNode body, Set<String> known) {
        Iterator<String> names = body.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                throw ApiException.badRequest(name, "unknown field: " + name);
            }
        }
    }

    private static String optionalText(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest(field, field + " must be a string");
        }
        return v.asText();
    }

    /**
     * Accepts a folder only if it is an absolute path to an existing directory inside one of the configured
     * work roots, after symbolic links are resolved (so neither {@code ..} nor a link leads out of them).
     *
     * @return the directory's real path
     * @throws ApiException 400 naming the field otherwise, or when no work root is configured
     */
    private String checkedDir(String field, String value) {
        if (config.workRoots().isEmpty()) {
            throw ApiException.badRequest(field, field + " is not accepted: this host has no --work-root configured");
        }
        Path path;
        try {
            path = Path.of(value);
        } catch (InvalidPathException e) {
            throw ApiException.badRequest(field, field + " is not a valid path: " + value);
        }
        if (!path.isAbsolute()) {
            throw ApiException.badRequest(field, field + " must be an absolute path: " + value);
        }
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            throw ApiException.badRequest(field, field + " does not exist: " + value);
        }
        if (!Files.isDirectory(real)) {
            throw ApiException.badRequest(field, field + " is not a directory: " + value);
        }
        for (Path root : config.workRoots()) {
            try {
                if (real.startsWith(root.toRealPath())) {
                    return real.toString();
                }
            } catch (IOException e) {
                log.warn("Work root {} is not usable: {}", root, e.toString());
            }
        }
        throw ApiException.badRequest(field, field + " is not inside a work root of this host: " + value);
    }

    private static List<String> stringList(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isArray()) {
            throw ApiException.badRequest(field, field + " must be an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : v) {
            if (!item.isTextual()) {
                throw ApiException.badRequest(field, field + " must be an array of strings");
            }
            out.add(item.asText());
        }
        return out;
    }
}
