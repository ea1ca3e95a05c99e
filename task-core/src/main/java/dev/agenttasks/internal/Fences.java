package dev.agenttasks.internal;

import dev.agenttasks.spi.StoreOp;

import java.util.List;
import java.util.Set;

/**
 * Fencing (docs/multi-host.md): the writer puts a {@link StoreOp.Fence} with the claim this host holds
 * before the first op of each task in a batch, so a host that lost a task's claim cannot write for
 * it. A batch that inserts the task needs none.
 */
final class Fences {
    private Fences() {
    }

    /** Adds a unit's ops to a batch, after a fence if the unit is the first of its task in the batch. */
    static void add(List<StoreOp> batch, Set<TaskState> fenced, Writer.Unit u) {
        TaskState s = u.state;
        if (s != null && !u.ops.isEmpty() && fenced.add(s) && !(u.ops.get(0) instanceof StoreOp.InsertTask)) {
            batch.add(new StoreOp.Fence(s.id, s.fenceOwner, s.fenceEpoch));
        }
        batch.addAll(u.ops);
    }
}
