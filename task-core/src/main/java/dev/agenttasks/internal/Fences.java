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
     *
     * <p>The no-pending-message condition of a finishing unit ({@link Finishing}) goes on the task's
     * leading fence whenever it can, so it costs no statement of its own: checked at the batch's start,
     * it sees every message another host stored before the batch, and a message stored after it fails
     * its sender's fence on the owner this batch clears. It is checked at the unit's own place only when
     * an earlier unit of the batch consumes one of the task's messages (a turn that started and ended
     * within one batch), and not at all for a task this batch inserts, which no other host can know yet.
     */
    static void add(List<StoreOp> fences, List<StoreOp> batch, Set<TaskState> fenced, Writer.Unit u) {
        TaskState s = u.state;
        boolean guarded = u.guard != null;
        if (s != null && !u.ops.isEmpty() && fenced.add(s)) {
            if (!(u.ops.get(0) instanceof StoreOp.InsertTask)) {
                fences.add(new StoreOp.Fence(s.id, s.fenceOwner, s.fenceEpoch, guarded));
            }
        } else if (guarded && s != null) {
            int lead = leadingFence(fences, s.id);
            if (lead < 0) {
                // inserted by this batch: no other host can have stored a message for it
            } else if (consumesMessage(batch, s.id)) {
                batch.add(new StoreOp.Fence(s.id, u.guard.before().owner(), s.fenceEpoch, true));
            } else {
                StoreOp.Fence f = (StoreOp.Fence) fences.get(lead);
                fences.set(lead, new StoreOp.Fence(f.taskId(), f.owner(), f.epoch(), true));
            }
        }
        batch.addAll(u.ops);
    }

    /** @return the index of the task's fence among the batch's leading fences, or -1 (inserted by the batch) */
    private static int leadingFence(List<StoreOp> fences, String taskId) {
        for (int i = fences.size() - 1; i >= 0; i--) {
            if (fences.get(i).taskId().equals(taskId)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean consumesMessage(List<StoreOp> batch, String taskId) {
        for (StoreOp op : batch) {
            if (op instanceof StoreOp.RemoveMessage && op.taskId().equals(taskId)) {
                return true;
            }
        }
        return false;
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
