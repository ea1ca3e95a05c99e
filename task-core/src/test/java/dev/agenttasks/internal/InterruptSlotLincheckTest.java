package dev.agenttasks.internal;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The slot protocol of a message sent with {@code MessageStrategy.INTERRUPT} under every interleaving
 * Lincheck explores, on the real {@link LocalTurnSlots}: the interrupted turn's thread returning, the
 * message (which closes the turn and marks the task queued under the task's lock, then releases the
 * old slot if the thread has returned and asks for a slot, as {@link MessageStrategies} and
 * {@link TurnScheduler} do) and the cancel-grace timer race. Either the turn's end wins (the message is
 * refused, the slot is free) or the message does (its turn starts exactly once, in the one slot, after
 * the old one is released exactly once).
 */
class InterruptSlotLincheckTest {

    /** The task's state as the engine keeps it, guarded by its monitor; the old turn's release flag. */
    static final class Task {
        final LocalTurnSlots<Task> slots = new LocalTurnSlots<>(1);
        final AtomicBoolean oldSlotReleased = new AtomicBoolean(); // TurnRun.slotReleased
        String turn = "old";
        boolean queued;
        boolean finished;
        boolean oldReturned;
        int started;

        /** TurnScheduler.startTurn. */
        boolean startTurn() {
            synchronized (this) {
                if (!queued || turn != null || finished) {
                    queued = false;
                    return false;
                }
                queued = false;
                turn = "new";
                started++;
                return true;
            }
        }

        /** TurnScheduler.releaseSlot(): the slot passes to a queued task or becomes free. */
        void releaseSlot() {
            Task next;
            while ((next = slots.releaseOrPass()) != null) {
                if (next.startTurn()) {
                    return;
                }
            }
        }

        /** TurnScheduler.releaseSlot(run): once per turn. */
        void releaseOld() {
            if (oldSlotReleased.compareAndSet(false, true)) {
                releaseSlot();
            }
        }

        /** TurnScheduler.requestSlot. */
        void requestSlot() {
            if (slots.acquireOrQueue(this) && !startTurn()) {
                releaseSlot();
            }
        }
    }

    @Test
    void theInterruptedTurnsSlotIsReleasedOnceAndTheMessagesTurnStartsOnce() {
        LincheckSupport.explore(500, () -> {
            Task t = new Task();
            if (!t.slots.acquireOrQueue(t)) {
                throw new AssertionError("the old turn holds the free slot");
            }
            boolean[] refused = new boolean[1];
            Thread turnEnd = new Thread(() -> { // TurnScheduler.execute after the runner returned
                synchronized (t) {
                    t.oldReturned = true;
                    if ("old".equals(t.turn)) {
                        t.turn = null;
                        t.finished = true; // completed: nothing queued
                    }
                }
                t.releaseOld();
            });
            Thread message = new Thread(() -> { // MessageStrategies.send with INTERRUPT
                boolean returned;
                synchronized (t) {
                    if (t.finished) {
                        refused[0] = true; // TaskNotAcceptingMessagesException
                        return;
                    }
                    t.turn = null; // the old turn is closed
                    t.queued = true;
                    returned = t.oldReturned;
                }
                if (returned) { // scheduleSlotRelease: the thread has returned
                    t.releaseOld();
                }
                t.requestSlot();
            });
            Thread grace = new Thread(t::releaseOld); // the cancel grace ends
            turnEnd.start();
            message.start();
            grace.start();
            LincheckSupport.join(turnEnd, message, grace);
            int expected = refused[0] ? 0 : 1;
            if (t.started != expected || t.slots.running() != expected || t.slots.queued() != 0) {
                throw new AssertionError("refused " + refused[0] + ": started " + t.started + ", running "
                        + t.slots.running() + ", queued " + t.slots.queued());
            }
        });
    }
}
