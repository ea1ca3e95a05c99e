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
     * Inserts a new task, with the {@link TaskRecord#owner() owner} and {@link TaskRecord#epoch() epoch}
     * as given (a host that inserts a task it runs at once inserts it claimed: owner set, epoch 1).
     * Fails the batch if the id exists.
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
     * {@link StoreConflictException}. The {@link TaskRecord#epoch() epoch} is not written: only
     * {@link TaskStore#claim claims} and {@link TaskStore#takeOver takeovers} change it.
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

    /**
     * A condition, not a write: fails the batch with {@link StoreConflictException} unless the task
     * exists, its stored {@link TaskRecord#owner() owner} equals {@code owner} (both may be
     * {@code null}) and its {@link TaskRecord#epoch() epoch} equals {@code epoch}; with
     * {@code noPendingMessages}, also unless the task has no pending message. The condition is checked
     * at its place in the batch and must hold until the batch commits (on PostgreSQL, lock the row:
     * {@code SELECT … FOR UPDATE}; SQLite's {@code BEGIN IMMEDIATE} serialises writers anyway).
     *
     * <p>The engine puts one before the first op of each task in every batch, so a host that lost its
     * claim (another host took the task over, or it was deleted) cannot append events or change the
     * status of the task; it then stops the turn locally. A host storing a message for a task another
     * host owns fences on that owner too. {@code noPendingMessages} guards the write that ends a turn
     * with {@code COMPLETED} or {@code WAITING_FOR_INPUT}, so a follow-up message another host stored
     * meanwhile runs as the next turn instead of being left pending; such a fence may come after other
     * ops of its task in the batch (after the removal of a message the batch consumes) and is checked
     * there.
     *
     * @param taskId            the task
     * @param owner             the owner the row must have, or {@code null} for an unowned task
     * @param epoch             the epoch the row must have
     * @param noPendingMessages also require that the task has no pending message
     */
    record Fence(String taskId, String owner, long epoch, boolean noPendingMessages) implements StoreOp {
        /**
         * Requires the task id.
         *
         * @param taskId the task
         * @param owner the owner the row must have, or {@code null} for an unowned task
         * @param epoch the epoch the row must have
         * @param noPendingMessages also require that the task has no pending message
         */
        public Fence {
            Objects.requireNonNull(taskId, "taskId");
        }

        /**
         * A fence on owner and epoch only.
         *
         * @param taskId the task
         * @param owner the owner the row must have, or {@code null} for an unowned task
         * @param epoch the epoch the row must have
         */
        public Fence(String taskId, String owner, long epoch) {
            this(taskId, owner, epoch, false);
        }
    }

    /**
     * Stores a request to the task's owner (cancel, delete, new message). Fails the batch if the task
     * does not exist. Stores that push changes wake the other hosts
     * ({@link StoreChangeListener#requestAdded(String)}) after the commit.
     *
     * @param request the request
     */
    record AddRequest(RemoteRequest request) implements StoreOp {
        /**
         * Requires the request.
         *
         * @param request the request
         */
        public AddRequest {
            Objects.requireNonNull(request, "request");
        }

        @Override
        public String taskId() {
            return request.taskId();
        }
    }

    /**
     * Removes a request the owner has acted on. Removing a missing request (or one of a deleted task)
     * is not an error.
     *
     * @param taskId    the task
     * @param requestId the request
     */
    record RemoveRequest(String taskId, String requestId) implements StoreOp {
        /**
         * Requires both fields.
         *
         * @param taskId the task
         * @param requestId the request
         */
        public RemoveRequest {
            Objects.requireNonNull(taskId, "taskId");
            Objects.requireNonNull(requestId, "requestId");
        }
    }

    /**
     * Stores an idempotency key. Fails the batch with {@link DuplicateKeyException} if the key exists,
     * and with {@link StoreConflictException} if its task does not exist (put it after the task's
     * {@link InsertTask} in the batch). The key is deleted with its task.
     *
     * @param key the key
     */
    record PutKey(IdempotencyKey key) implements StoreOp {
        /**
         * Requires the key.
         *
         * @param key the key
         */
        public PutKey {
            Objects.requireNonNull(key, "key");
        }

        @Override
        public String taskId() {
            return key.taskId();
        }
    }
}
