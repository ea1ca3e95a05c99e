package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.PayloadTooLargeException;
import dev.agenttasks.TaskLimits;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Admission: the checks every input passes before anything is written. A bad value fails with
 * {@link InvalidRequestException} (or {@link PayloadTooLargeException}) naming its field in snake_case
 * ({@code agent_id}, {@code task_id}, {@code message}, {@code content}, {@code options}, {@code metadata},
 * {@code work_dir}, {@code title}, {@code timeout}, {@code request}); values that pass come back copied
 * where a caller could still change them.
 */
final class Admission {
    private final TaskLimits limits;

    Admission(TaskLimits limits) {
        this.limits = limits;
    }

    /** A create request that passed every check; {@code title} is null when the engine derives it. */
    record Request(String agentId, TaskMessage message, Map<String, Object> options, Map<String, String> metadata,
                   String workDir, String title, Duration timeout) {
    }

    /** Checks everything in a create request that needs no runner or store. */
    Request checkRequest(TaskRequest request) {
        if (request == null) {
            throw new InvalidRequestException("request", "request must not be null");
        }
        String agentId = checkId(request.agentId(), "agent_id");
        TaskMessage message = request.message() == null ? null : checkMessage(request.message());
        Map<String, Object> options = Json.copyObject(request.options(), "options", limits.maxOptionsBytes());
        Map<String, String> metadata = checkMetadata(request.metadata());
        String workDir = request.workDir();
        if (workDir != null && (workDir.isBlank() || workDir.length() > 4096 || workDir.indexOf('\0') >= 0)) {
            throw new InvalidRequestException("work_dir", "work_dir must be a non-blank path of at most 4096 characters");
        }
        if (workDir != null) {
            Text.checkPlain(workDir, "work_dir");
        }
        String title = request.title();
        if (title != null) {
            if (Text.isInvisible(title)) {
                throw new InvalidRequestException("title", "title must not be blank or made only of invisible characters");
            }
            Text.checkPlain(title, "title");
            int codePoints = title.codePointCount(0, title.length());
            if (codePoints > limits.maxTitleLength()) {
                throw new PayloadTooLargeException("title", codePoints, limits.maxTitleLength());
            }
        }
        Duration timeout = request.timeout();
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new InvalidRequestException("timeout", "timeout must be positive");
        }
        return new Request(agentId, message, options, metadata, workDir, title, timeout);
    }

    String checkId(String id, String field) {
        if (id == null || id.isBlank()) {
            throw new InvalidRequestException(field, field + " must not be blank");
        }
        if (id.length() > limits.maxIdLength()) {
            throw new InvalidRequestException(field, field + " is longer than " + limits.maxIdLength() + " characters");
        }
        Text.checkPlain(id, field);
        return id;
    }

    TaskMessage checkMessage(TaskMessage m) {
        if (m == null) {
            throw new InvalidRequestException("message", "message must not be null");
        }
        if (m.text() != null && m.content() != null) {
            throw new InvalidRequestException("message", "give either text or content, not both");
        }
        if (m.text() != null) {
            if (Text.isInvisible(m.text())) {
                throw new InvalidRequestException("message", "message must not be empty");
            }
            Text.checkMessage(m.text(), "message");
            long size = (long) m.text().length() * 3;
            if (size > limits.maxMessageBytes()) {
                int bytes = m.text().getBytes(StandardCharsets.UTF_8).length;
                if (bytes > limits.maxMessageBytes()) {
                    throw new PayloadTooLargeException("message", bytes, limits.maxMessageBytes());
                }
            }
            return m;
        }
        if (m.content() == null || m.content().isEmpty()) {
            throw new InvalidRequestException("content", "message must have text or at least one content block");
        }
        List<Map<String, Object>> blocks = Json.copyObjectList(m.content(), "content", limits.maxMessageBytes());
        for (Map<String, Object> b : blocks) {
            if (!(b.get("type") instanceof String) || ((String) b.get("type")).isBlank()) {
                throw new InvalidRequestException("content", "every content block needs a string \"type\"");
            }
            if ("text".equals(b.get("type")) && b.get("text") instanceof String) {
                Text.checkMessage((String) b.get("text"), "content");
            }
        }
        return new TaskMessage(null, blocks);
    }

    Map<String, String> checkMetadata(Map<String, String> md) {
        long size = 0;
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : md.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank()) {
                throw new InvalidRequestException("metadata", "metadata keys must not be blank");
            }
            if (e.getValue() == null) {
                throw new InvalidRequestException("metadata", "metadata value of " + e.getKey() + " must not be null");
            }
            Text.checkPlain(e.getKey(), "metadata");
            Text.checkPlain(e.getValue(), "metadata");
            size += e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().getBytes(StandardCharsets.UTF_8).length;
            if (size > limits.maxMetadataBytes()) {
                throw new PayloadTooLargeException("metadata", size, limits.maxMetadataBytes());
            }
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }
}
