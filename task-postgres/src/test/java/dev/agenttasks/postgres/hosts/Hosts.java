package dev.agenttasks.postgres.hosts;

import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;

import java.time.Duration;

/** The one place the tests set the multi-host options, so that every host of a test is configured alike. */
public final class Hosts {

    private Hosts() {
    }

    /**
     * @param b               a manager builder
     * @param hostId          the host id
     * @param heartbeatMillis the heartbeat interval
     * @param deadAfterMillis after how long without a heartbeat a host counts as dead
     * @return the builder
     */
    public static TaskManager.Builder configure(TaskManager.Builder b, String hostId, long heartbeatMillis,
                                                long deadAfterMillis) {
        return b.hostId(hostId).heartbeatInterval(Duration.ofMillis(heartbeatMillis))
                .hostDeadAfter(Duration.ofMillis(deadAfterMillis)).pollInterval(Duration.ofMillis(heartbeatMillis))
                .eventPollInterval(Duration.ofMillis(100));
    }

    /**
     * @param b   a request builder
     * @param key an idempotency key, or null
     * @return the builder
     */
    public static TaskRequest.Builder idempotencyKey(TaskRequest.Builder b, String key) {
        return b.idempotencyKey(key);
    }
}
