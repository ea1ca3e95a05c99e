package dev.agenttasks.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * A request to the host that owns a task, written by another host: the owner polls
 * {@link TaskStore#requests(String, int)} (and is woken by a {@link StoreChangeListener} where the
 * store can push), acts on the request and removes it with {@link StoreOp.RemoveRequest}.
 *
 * <p>A request belongs to its task, not to a host: whichever host owns the task when it polls gets
 * it, so a request survives a takeover. A store deletes a task's requests with the task.
 *
 * @param requestId unique id of the request, assigned by the engine
 * @param taskId    the task it concerns
 * @param kind      what is asked
 * @param createdAt when it was written (the writing host's clock)
 */
public record RemoteRequest(String requestId, String taskId, Kind kind, Instant createdAt) {

    /** What a {@link RemoteRequest} asks of the task's owner. */
    public enum Kind {
        /** Cancel the task: interrupt its turn and record {@code CANCELLED}. */
        CANCEL,
        /** Delete the task: stop its turn, then remove it from the store. */
        DELETE,
        /** A message was stored for the task ({@link StoreOp.AddMessage}): reload its pending messages. */
        MESSAGE,
        /**
         * A message was stored for the task with {@link dev.agenttasks.MessageStrategy#INTERRUPT}: reload its
         * pending messages and, if the message (whose id is this request's {@code requestId}) has not started a
         * turn yet, stop the running turn so that it runs next. Stores persist a kind by its {@link #name()}
         * (a text column without a list of allowed values), so a new kind needs no schema change.
         */
        INTERRUPT
    }

    /**
     * Requires every field.
     *
     * @param requestId unique id of the request, assigned by the engine
     * @param taskId the task it concerns
     * @param kind what is asked
     * @param createdAt when it was written (the writing host's clock)
     */
    public RemoteRequest {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(createdAt, "createdAt");
    }
}
