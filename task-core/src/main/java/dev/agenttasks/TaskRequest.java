package dev.agenttasks;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What to run: an agent, an optional first message, runner options, metadata and a work directory.
 * Build one with {@link #builder(String)}; the manager validates it in
 * {@link TaskManager#create(TaskRequest)} before anything is written.
 *
 * @param agentId  the agent to run (resolved through the {@link dev.agenttasks.spi.AgentRunner})
 * @param message  the first message, or {@code null} to start the agent without one
 * @param options  JSON-compatible options passed to the runner on every turn (for example
 *                 {@code enable_skills}, {@code enable_mcp}, {@code add_dirs}); never {@code null}
 * @param metadata the host's string metadata, stored with the task; never {@code null}
 * @param workDir  the work directory of the task, or {@code null}
 * @param title    an explicit title, or {@code null} to derive it from the message
 * @param timeout  the longest a single turn may run before the task fails, or {@code null} for the
 *                 manager's default
 * @param idempotencyKey a key that makes a retried create safe, or {@code null}: a create with a key
 *                 already used for the same request returns the task the first create made (on any
 *                 host sharing the store); with a different request it fails with
 *                 {@link IdempotencyKeyMismatchException}. At most 255 characters, not blank.
 */
public record TaskRequest(
        String agentId,
        TaskMessage message,
        Map<String, Object> options,
        Map<String, String> metadata,
        String workDir,
        String title,
        Duration timeout,
        String idempotencyKey) {

    /**
     * Normalises null maps to empty ones; deeper validation happens in the manager.
     *
     * @param agentId the agent to run (resolved through the {@link dev.agenttasks.spi.AgentRunner})
     * @param message the first message, or {@code null} to start the agent without one
     * @param options JSON-compatible options passed to the runner on every turn (for example {@code enable_skills}, {@code enable_mcp}, {@code add_dirs}); never {@code null}
     * @param metadata the host's string metadata, stored with the task; never {@code null}
     * @param workDir the work directory of the task, or {@code null}
     * @param title an explicit title, or {@code null} to derive it from the message
     * @param timeout the longest a single turn may run before the task fails, or {@code null} for the manager's default
     * @param idempotencyKey a key that makes a retried create safe, or {@code null}
     */
    public TaskRequest {
        options = options == null ? Map.of() : options;
        metadata = metadata == null ? Map.of() : metadata;
    }

    /**
     * A request without an idempotency key (the form before keys existed).
     *
     * @param agentId the agent to run
     * @param message the first message, or {@code null}
     * @param options JSON-compatible runner options
     * @param metadata the host's string metadata
     * @param workDir the work directory of the task, or {@code null}
     * @param title an explicit title, or {@code null}
     * @param timeout the longest a single turn may run, or {@code null} for the manager's default
     */
    public TaskRequest(String agentId, TaskMessage message, Map<String, Object> options, Map<String, String> metadata,
                       String workDir, String title, Duration timeout) {
        this(agentId, message, options, metadata, workDir, title, timeout, null);
    }

    /**
     * Starts a request for an agent.
     *
     * @param agentId the agent id
     * @return a builder
     */
    public static Builder builder(String agentId) {
        return new Builder(agentId);
    }

    /**
     * A plain-text request, the most common case.
     *
     * @param agentId the agent id
     * @param text    the first message
     * @return the request
     */
    public static TaskRequest of(String agentId, String text) {
        return builder(agentId).message(TaskMessage.text(text)).build();
    }

    /** Builder of {@link TaskRequest}. Not thread-safe. */
    public static final class Builder {
        private final String agentId;
        private TaskMessage message;
        private final Map<String, Object> options = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private String workDir;
        private String title;
        private Duration timeout;
        private String idempotencyKey;

        private Builder(String agentId) {
            this.agentId = agentId;
        }

        /**
         * @param message the first message
         * @return this
         */
        public Builder message(TaskMessage message) {
            this.message = message;
            return this;
        }

        /**
         * @param text the first message as plain text
         * @return this
         */
        public Builder text(String text) {
            this.message = TaskMessage.text(text);
            return this;
        }

        /**
         * @param key option name
         * @param value JSON-compatible value
         * @return this
         */
        public Builder option(String key, Object value) {
            options.put(Objects.requireNonNull(key, "key"), value);
            return this;
        }

        /**
         * @param all options to add
         * @return this
         */
        public Builder options(Map<String, ?> all) {
            options.putAll(all);
            return this;
        }

        /**
         * @param key metadata key
         * @param value metadata value
         * @return this
         */
        public Builder metadata(String key, String value) {
            metadata.put(Objects.requireNonNull(key, "key"), value);
            return this;
        }

        /**
         * @param workDir the task's work directory
         * @return this
         */
        public Builder workDir(String workDir) {
            this.workDir = workDir;
            return this;
        }

        /**
         * @param title explicit title instead of the derived one
         * @return this
         */
        public Builder title(String title) {
            this.title = title;
            return this;
        }

        /**
         * @param timeout longest time one turn may run
         * @return this
         */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /**
         * @param key the idempotency key (for example an HTTP {@code Idempotency-Key} header), or null
         * @return this
         */
        public Builder idempotencyKey(String key) {
            this.idempotencyKey = key;
            return this;
        }

        /** @return the request (validated later, by the manager) */
        public TaskRequest build() {
            return new TaskRequest(agentId, message, new LinkedHashMap<>(options), new LinkedHashMap<>(metadata),
                    workDir, title, timeout, idempotencyKey);
        }
    }
}
