package dev.agenttasks.internal;

import dev.agenttasks.spi.StoreOp;

import java.util.List;
import java.util.Set;

/**
 * Fencing (docs/multi-host.md): the writer puts a {@link StoreOp.Fence} with the claim this host holds
 * before the first op of each task in a batch, so a host that lost a task's claim cannot write for
 * it. A batch that inserts the task needs none. The unit that finishes a task after a turn (COMPLETED, or
 * WAITING_FOR_INPUT) also requires that the task has no pending message ({@link Finishing}).
 */
final class Fences {
    private Fences() {
    }

    /**
     * Adds a unit's ops to a batch, and a fence to {@code fences} if the unit is the first of its task in
     * the batch. The writer puts all fences first (they check the claim as it was before the batch), so
     * the ops of one kind stay together for the store's statement batches.
     */
    static void add(List<StoreOp> fences, List<StoreOp> batch, Set<TaskState> fenced, Writer.Unit u) {
        TaskState s = u.state;
        boolean guarded = u.guard != null;
        if (s != null && !u.ops.isEmpty() && fenced.add(s) && !(u.ops.get(0) instanceof StoreOp.InsertTask)) {
            fences.add(new StoreOp.Fence(s.id, s.fenceOwner, s.fenceEpoch, guarded));
        } else if (guarded && s != null) {
            // earlier units of the task in this batch may remove messages: the check goes at the unit's place
            batch.add(new StoreOp.Fence(s.id, u.guard.before().owner(), s.fenceEpoch, true));
        }
        batch.addAll(u.ops);
    }

    /** @return the fences followed by the ops */
    static List<StoreOp> join(List<StoreOp> fences, List<StoreOp> ops) {
        if (fences.isEmpty()) {
            return ops;
        }
        fences.addAll(ops);
        return fences;
    }
}
