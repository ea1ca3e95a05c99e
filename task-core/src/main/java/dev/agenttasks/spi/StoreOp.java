package dev.agenttasks.spi;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;

import java.util.Objects;

/**
 * One write in a {@link TaskStore#write(java.util.List) batch}. A store applies a batch's ops in order,
 * in one transaction: all of them or none.
 */
public sealed interface StoreOp {

    /** @return the task the op concerns */
    String taskId();

    /**
     * Inserts a new task. Fails the batch if the id exists.
     *
     * @param record the task
     */
    record InsertTask(TaskRecord record) implements StoreOp {
        /**
         * Requires the record.
         *
         * @param record the task
         */
        public InsertTask {
            Objects.requireNonNull(record, "record");
        }

        @Override
        public String taskId() {
            return record.id();
        }
    }

    /**
     * Replaces the mutable fields of a task (status, session id, started/completed times, error, owner,
     * lease), but only if its stored status is {@code expected}; otherwise the batch fails with
     * {@link StoreConflictException}.
     *
     * @param record   the new state
     * @param expected the status the stored row must have
     */
    record UpdateTask(TaskRecord record, TaskStatus expected) implements StoreOp {
        /**
         * Requires both fields.
         *
         * @param record the new state
         * @param expected the status the stored row must have
         */
        public UpdateTask {
            Objects.requireNonNull(record, "record");
            Objects.requireNonNull(expected, "expected");
        }

        @Override
        public String taskId() {
            return record.id();
        }
    }

    /**
     * Appends an event. Fails the batch if the task does not exist or already has an event with that seq.
     *
     * @param event the event
     */
    record AppendEvent(TaskEvent event) implements StoreOp {
        /**
         * Requires the event.
         *
         * @param event the event
         */
        public AppendEvent {
            Objects.requireNonNull(event, "event");
        }

        @Override
        public String taskId() {
            return event.taskId();
        }
    }

    /**
     * Stores a pending message. Fails the batch if the task does not exist.
     *
     * @param message the message
     */
    record AddMessage(PendingMessage message) implements StoreOp {
        /**
         * Requires the message.
         *
         * @param message the message
         */
        public AddMessage {
            Objects.requireNonNull(message, "message");
        }

        @Override
        public String taskId() {
            return message.taskId();
        }
    }

    /**
     * Removes a pending message (it was handed to a turn). Removing a missing message is not an error.
     *
     * @param taskId    the task
     * @param messageId the message
     */
    record RemoveMessage(String taskId, String messageId) implements StoreOp {
        /**
         * Requires both fields.
         *
         * @param taskId the task
         * @param messageId the message
         */
        public RemoveMessage {
            Objects.requireNonNull(taskId, "taskId");
            Objects.requireNonNull(messageId, "messageId");
        }
    }
}
