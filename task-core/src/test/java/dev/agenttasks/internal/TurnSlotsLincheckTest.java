package dev.agenttasks.internal;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The slot protocol of the engine under every interleaving Lincheck explores: a turn's slot is released
 * once however many parties try (its own end, the cancel grace), the limit holds, and a task queued
 * while the slot frees is started exactly once.
 */
class TurnSlotsLincheckTest {

    @Test
    void aSlotReleasedByTheTurnsEndAndByTheGraceTimerIsReleasedOnceAndPassedOn() {
        LincheckSupport.explore(500, () -> {
            LocalTurnSlots<String> slots = new LocalTurnSlots<>(1);
            List<String> started = new CopyOnWriteArrayList<>();
            if (!slots.acquireOrQueue("a")) {
                throw new AssertionError("the first task gets the free slot");
            }
            started.add("a");
            AtomicBoolean releasedA = new AtomicBoolean(); // TurnRun.slotReleased
            Runnable releaseA = () -> {
                if (releasedA.compareAndSet(false, true)) {
                    String next = slots.releaseOrPass();
                    if (next != null) {
                        started.add(next);
                    }
                }
            };
            Thread turnEnd = new Thread(releaseA);
            Thread graceTimer = new Thread(releaseA);
            Thread create = new Thread(() -> {
                if (slots.acquireOrQueue("b")) {
                    started.add("b");
                }
            });
            turnEnd.start();
            graceTimer.start();
            create.start();
            LincheckSupport.join(turnEnd, graceTimer, create);
            if (!started.equals(List.of("a", "b"))) {
                throw new AssertionError("started " + started);
            }
            if (slots.running() != 1 || slots.queued() != 0) {
                throw new AssertionError("running " + slots.running() + ", queued " + slots.queued());
            }
        });
    }

    @Test
    void closingStopsHandingOutSlots() {
        LincheckSupport.explore(500, () -> {
            LocalTurnSlots<String> slots = new LocalTurnSlots<>(1);
            slots.acquireOrQueue("a");
            List<String> started = new CopyOnWriteArrayList<>();
            Thread close = new Thread(slots::close);
            Thread create = new Thread(() -> {
                if (slots.acquireOrQueue("b")) {
                    started.add("b");
                }
            });
            close.start();
            create.start();
            LincheckSupport.join(close, create);
            String next = slots.releaseOrPass();
            if (next != null || !started.isEmpty() || slots.running() != 0) {
                throw new AssertionError("after close: passed to " + next + ", started " + started);
            }
        });
    }
}
