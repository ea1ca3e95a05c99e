package dev.agenttasks.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * A stored idempotency key: the first request made with the key, identified by a fingerprint, and
 * what it produced. Keys are unique in a store ({@link StoreOp.PutKey} fails the batch with
 * {@link DuplicateKeyException} when the key exists) and are deleted with their task.
 *
 * <p>The engine namespaces the keys it writes ({@code create:<key>} for
 * {@link dev.agenttasks.TaskRequest#idempotencyKey()}, {@code message:<task id>:<key>} for
 * {@link dev.agenttasks.TaskManager#sendMessage(String, dev.agenttasks.TaskMessage, String)}); a store
 * treats the key as an opaque string of at most 600 characters.
 *
 * @param key         the key, unique in the store
 * @param taskId      the task the request created or concerned; the key is deleted with it
 * @param fingerprint an opaque digest of the request; a retry with another fingerprint is a mismatch
 * @param outcome     an opaque string the engine records with the key (for example the
 *                    {@link dev.agenttasks.SendResult} of a message), or {@code null}
 * @param createdAt   when the key was stored
 */
public record IdempotencyKey(String key, String taskId, String fingerprint, String outcome, Instant createdAt) {
    /**
     * Requires every field but {@code outcome}.
     *
     * @param key the key, unique in the store
     * @param taskId the task the request created or concerned; the key is deleted with it
     * @param fingerprint an opaque digest of the request; a retry with another fingerprint is a mismatch
     * @param outcome an opaque string the engine records with the key, or {@code null}
     * @param createdAt when the key was stored
     */
    public IdempotencyKey {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(fingerprint, "fingerprint");
        Objects.requireNonNull(createdAt, "createdAt");
    }
}
