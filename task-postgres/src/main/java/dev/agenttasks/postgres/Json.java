package dev.agenttasks.postgres;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskStoreException;

import java.io.IOException;
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

    private static final ObjectMapper MAPPER = new ObjectMapper();
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

    /**
     * Reads a JSON object straight into immutable maps and lists with the streaming parser (the hot path
     * of a replay): integral numbers as {@code Long} or {@code BigInteger}, others as {@code Double}.
     */
    static Map<String, Object> readMap(String json) {
        if (json == null || "{}".equals(json)) {
            return Map.of();
        }
        try (JsonParser p = MAPPER.getFactory().createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new TaskStoreException("stored JSON is not an object: " + abbreviate(json));
            }
            return readObject(p);
        } catch (IOException e) {
            throw new TaskStoreException("stored JSON is unreadable: " + e.getMessage(), e);
        }
    }

    private static Map<String, Object> readObject(JsonParser p) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            p.nextToken();
            out.put(key, readValue(p));
        }
        return Collections.unmodifiableMap(out);
    }

    private static Object readValue(JsonParser p) throws IOException {
        switch (p.currentToken()) {
            case START_OBJECT:
                return readObject(p);
            case START_ARRAY: {
                List<Object> list = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(readValue(p));
                }
                return Collections.unmodifiableList(list);
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getNumberType() == JsonParser.NumberType.BIG_INTEGER ? p.getBigIntegerValue()
                        : (Object) p.getLongValue();
            case VALUE_NUMBER_FLOAT:
                return p.getDoubleValue();
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new TaskStoreException("unexpected JSON token " + p.currentToken());
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "…" : s;
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
}
