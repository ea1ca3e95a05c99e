package dev.agenttasks.spi;

import dev.agenttasks.TaskMessage;

import java.time.Instant;
import java.util.Objects;

/**
 * A message stored for a task and not yet handed to a turn (the first message of a new task, or a
 * follow-up). Stores return a task's pending messages in the order they were added.
 *
 * @param taskId    the task
 * @param messageId unique id of the message, assigned by the engine
 * @param message   the message
 * @param createdAt when it was received
 */
public record PendingMessage(String taskId, String messageId, TaskMessage message, Instant createdAt) {
    /**
     * Requires every field but {@code message}, which may be null for a task created without a message.
     *
     * @param taskId the task
     * @param messageId unique id of the message, assigned by the engine
     * @param message the message
     * @param createdAt when it was received
     */
    public PendingMessage {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(createdAt, "createdAt");
    }
}
