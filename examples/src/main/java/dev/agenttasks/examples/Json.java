package dev.agenttasks.examples;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;

import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** JSON mapping of the wire format: snake_case fields, ISO-8601 instants, lower-case status names. */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** Request bodies: a key given twice is an error, not "the last one wins". */
    private static final ObjectReader STRICT = MAPPER.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '(.*)'");

    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };
    private static final TypeReference<List<Map<String, Object>>> LIST_OF_MAPS = new TypeReference<>() {
    };

    private Json() {
    }

    /** @return the task as the wire object of the original plan, plus {@code metadata} */
    static Map<String, Object> task(Task t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", t.id());
        m.put("agent_id", t.agentId());
        m.put("session_id", t.sessionId());
        m.put("status", t.status().wireName());
        m.put("title", t.title());
        m.put("model", t.model());
        m.put("created_at", instant(t.createdAt()));
        m.put("started_at", instant(t.startedAt()));
        m.put("completed_at", instant(t.completedAt()));
        m.put("error", t.error());
        m.put("work_dir", t.workDir());
        m.put("metadata", t.metadata());
        return m;
    }

    static List<Map<String, Object>> tasks(List<Task> tasks) {
        List<Map<String, Object>> out = new ArrayList<>(tasks.size());
        for (Task t : tasks) {
            out.add(task(t));
        }
        return out;
    }

    /** @return the SSE data object of an event: seq, type, timestamp and the event's own data */
    static Map<String, Object> event(TaskEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task_id", e.taskId());
        m.put("seq", e.seq());
        m.put("type", e.type());
        m.put("timestamp", instant(e.timestamp()));
        m.put("data", e.data());
        return m;
    }

    static String instant(Instant i) {
        return i == null ? null : i.toString();
    }

    static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String string(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Parses a request body that must be one JSON object.
     *
     * @throws ApiException 400 with field {@code body} if it is not
     */
    static ObjectNode object(byte[] body) {
        if (body.length == 0) {
            throw ApiException.badRequest("body", "a JSON object body is required");
        }
        JsonNode node;
        try {
            node = STRICT.readTree(body);
        } catch (JsonProcessingException e) {
            Matcher duplicate = DUPLICATE.matcher(e.getOriginalMessage());
            if (duplicate.find()) {
                String name = duplicate.group(1);
                throw ApiException.badRequest(name, "duplicate JSON key: " + name);
            }
            throw ApiException.badRequest("body", "malformed JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw ApiException.badRequest("body", "unreadable JSON body");
        }
        if (node == null || !node.isObject()) {
            throw ApiException.badRequest("body", "the body must be a JSON object");
        }
        return (ObjectNode) node;
    }

    static Map<String, Object> toMap(JsonNode node) {
        return MAPPER.convertValue(node, MAP);
    }

    static List<Map<String, Object>> toListOfMaps(JsonNode node) {
        return MAPPER.convertValue(node, LIST_OF_MAPS);
    }
}
