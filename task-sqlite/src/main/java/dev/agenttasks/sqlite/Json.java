package dev.agenttasks.sqlite;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskStoreException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON codec of the store's text columns. Values read back are deeply immutable, keep their key
 * order and may hold {@code null} (JSON null).
 */
final class Json {

    /** Integral numbers read back as {@code Long} (or {@code BigInteger}), like the engine normalises them. */
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.USE_LONG_FOR_INTS);
    private static final TypeReference<LinkedHashMap<String, Object>> MAP = new TypeReference<>() {
    };
    private static final TypeReference<LinkedHashMap<String, String>> STRING_MAP = new TypeReference<>() {
    };

    private Json() {
    }

    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new TaskStoreException("value is not JSON-serialisable: " + e.getOriginalMessage(), e);
        }
    }

    static Map<String, Object> readMap(String json) {
        if (json == null || "{}".equals(json)) {
            return Map.of();
        }
        try {
            return immutableMap(MAPPER.readValue(json, MAP));
        } catch (JsonProcessingException e) {
            throw new TaskStoreException("stored JSON is unreadable: " + e.getOriginalMessage(), e);
        }
    }

    static Map<String, String> readStringMap(String json) {
        if (json == null || "{}".equals(json)) {
            return Map.of();
        }
        try {
            return Collections.unmodifiableMap(MAPPER.readValue(json, STRING_MAP));
        } catch (JsonProcessingException e) {
            throw new TaskStoreException("stored JSON is unreadable: " + e.getOriginalMessage(), e);
        }
    }

    /** A message as {@code {"text": …}} or {@code {"content": […]}}, or SQL NULL for no message. */
    static String writeMessage(TaskMessage message) {
        if (message == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", message.text());
        m.put("content", message.content());
        return write(m);
    }

    @SuppressWarnings("unchecked")
    static TaskMessage readMessage(String json) {
        if (json == null) {
            return null;
        }
        Map<String, Object> m = readMap(json);
        Object text = m.get("text");
        Object content = m.get("content");
        return new TaskMessage(text == null ? null : text.toString(),
                content == null ? null : (List<Map<String, Object>>) content);
    }

    @SuppressWarnings("unchecked")
    private static Object immutable(Object v) {
        if (v instanceof Map) {
            return immutableMap((Map<String, Object>) v);
        }
        if (v instanceof List) {
            List<Object> src = (List<Object>) v;
            List<Object> out = new ArrayList<>(src.size());
            for (Object o : src) {
                out.add(immutable(o));
            }
            return Collections.unmodifiableList(out);
        }
        return v;
    }

    private static Map<String, Object> immutableMap(Map<String, Object> src) {
        Map<String, Object> out = new LinkedHashMap<>(Math.max(4, src.size() * 2));
        for (Map.Entry<String, Object> e : src.entrySet()) {
            out.put(e.getKey(), immutable(e.getValue()));
        }
        return Collections.unmodifiableMap(out);
    }
}
