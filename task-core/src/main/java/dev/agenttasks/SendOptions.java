package dev.agenttasks;

/**
 * How {@link TaskManager#sendMessage(String, TaskMessage, SendOptions)} treats one message: what to do
 * if the task is busy, and an idempotency key that makes a retried call safe.
 *
 * @param strategy       what to do with the message if the task is busy (a turn running, queued for a
 *                       slot, or waiting for a retry), or {@code null} for the manager's
 *                       {@linkplain TaskManager.Builder#messageStrategy strategy}
 * @param idempotencyKey a key that makes a retried call store and run the message once, or {@code null}
 *                       for none: a retry with a key already used for the same task and the same message
 *                       returns the first call's result (on any host sharing the store); with a
 *                       different message it fails with {@link IdempotencyKeyMismatchException}. Keys
 *                       are scoped to the task and deleted with it; at most 255 characters, not blank
 */
public record SendOptions(MessageStrategy strategy, String idempotencyKey) {

    /** The manager's strategy and no key: what {@link TaskManager#sendMessage(String, TaskMessage)} uses. */
    public static final SendOptions DEFAULTS = new SendOptions(null, null);

    /**
     * @param strategy what to do with the message if the task is busy
     * @return options with that strategy and no key
     */
    public static SendOptions strategy(MessageStrategy strategy) {
        return new SendOptions(strategy, null);
    }

    /**
     * @param key the idempotency key (for example an HTTP {@code Idempotency-Key} header)
     * @return options with that key and the manager's strategy
     */
    public static SendOptions idempotencyKey(String key) {
        return new SendOptions(null, key);
    }

    /**
     * @param s what to do with the message if the task is busy, or {@code null} for the manager's
     * @return a copy with it
     */
    public SendOptions withStrategy(MessageStrategy s) {
        return new SendOptions(s, idempotencyKey);
    }

    /**
     * @param key the idempotency key, or {@code null} for none
     * @return a copy with it
     */
    public SendOptions withIdempotencyKey(String key) {
        return new SendOptions(strategy, key);
    }
}
