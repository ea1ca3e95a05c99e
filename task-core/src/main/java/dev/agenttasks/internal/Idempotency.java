package dev.agenttasks.internal;

import dev.agenttasks.IdempotencyKeyMismatchException;
import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.spi.IdempotencyKey;
import dev.agenttasks.spi.TaskRecord;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import java.util.Optional;
import java.util.TreeMap;

/**
 * Idempotency keys (docs/multi-host.md): a create or message retried with the same key returns what
 * the first call made, on any host; the same key with a different request is an error. The store
 * keeps {@code create:<key>} and {@code message:<task>:<key>} with a SHA-256 fingerprint of the
 * request, written in the same batch as what the request made.
 */
final class Idempotency {
    static final int MAX_KEY_LENGTH = 255;

    private final Engine engine;

    Idempotency(Engine engine) {
        this.engine = engine;
    }

    static String checkKey(String key) {
        if (key == null) {
            return null;
        }
        if (key.isBlank() || key.length() > MAX_KEY_LENGTH) {
            throw new InvalidRequestException("idempotency_key",
                    "idempotency_key must be 1 to " + MAX_KEY_LENGTH + " characters and not blank");
        }
        return key;
    }

    static String createKey(String key) {
        return "create:" + key;
    }

    static String messageKey(String taskId, String key) {
        return "message:" + taskId + ":" + key;
    }

    static String fingerprint(TaskRequest r) {
        return sha256("create\n" + r.agentId() + "\n" + describe(r.message()) + "\n" + new TreeMap<>(r.options()) + "\n"
                + new TreeMap<>(r.metadata()) + "\n" + r.workDir() + "\n" + r.title() + "\n" + r.timeout());
    }

    static String fingerprint(TaskMessage m) {
        return sha256("message\n" + describe(m));
    }

    private static String describe(TaskMessage m) {
        if (m == null) {
            return "null";
        }
        return m.text() != null ? "text:" + m.text() : "content:" + m.content();
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing", e);
        }
    }

    /**
     * @return the stored key if the same request was made with it before
     * @throws IdempotencyKeyMismatchException if the key was used for another request
     */
    Optional<IdempotencyKey> prior(String storedKey, String userKey, String fingerprint) {
        Optional<IdempotencyKey> k = engine.store.idempotencyKey(storedKey);
        if (k.isPresent() && !k.get().fingerprint().equals(fingerprint)) {
            throw new IdempotencyKeyMismatchException(userKey, k.get().taskId());
        }
        return k;
    }

    /** @return the task a create with this key made before, if any */
    Optional<Task> priorCreate(String key, String fingerprint) {
        return prior(createKey(key), key, fingerprint).flatMap(k -> engine.store.task(k.taskId())).map(TaskRecord::task);
    }

}
