package dev.agenttasks.internal;

import java.util.List;

/**
 * What a starting manager takes over from hosts that stopped: it finds their unfinished tasks, records
 * the fate the policy gives interrupted turns and returns the tasks to queue. This is the seam where
 * multi-host takeover plugs in (dead-host detection by heartbeat, claims on a live store);
 * {@link StartupRecovery} is the single-host implementation, run once at start.
 */
interface TaskRecovery {

    /** @return the tasks to queue for a turn, oldest first, already loaded into memory */
    List<TaskState> recover();
}
