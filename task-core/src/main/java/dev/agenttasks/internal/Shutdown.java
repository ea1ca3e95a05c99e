package dev.agenttasks.internal;

import dev.agenttasks.ManagerClosedException;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.concurrent.TimeUnit;

/**
 * An ordered shutdown, once the engine is marked closed: the slot queue closes (queued tasks stay
 * {@code PENDING} in the store for the next start), running turns get the shutdown timeout to return
 * and are then interrupted and abandoned to recovery, the writer flushes every acknowledged write and
 * fails what it cannot take, subscriptions end with {@link ManagerClosedException}, then the engine's
 * own threads stop and the store closes.
 */
final class Shutdown {
    private static final Logger log = Engine.log; // the lines keep the engine's logger name
    private final Engine engine;

    Shutdown(Engine engine) {
        this.engine = engine;
    }

    void run() {
        long deadline = System.nanoTime() + engine.config.shutdownTimeout().toNanos();
        engine.closeDeadline = deadline + TimeUnit.MILLISECONDS.toNanos(Math.max(1000, engine.config.shutdownTimeout().toMillis()) + 1000);
        engine.hosts.stop();
        engine.claims.close();
        engine.turns.slots.close(); // queued tasks stay PENDING in the store: the next start queues them again
        synchronized (engine.turns.runningTurns) {
            long left;
            while (!engine.turns.runningTurns.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(engine.turns.runningTurns, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        for (TurnRun run : new ArrayList<>(engine.turns.runningTurns)) {
            TaskState s = run.state;
            synchronized (s) {
                if (s.turn == run) {
                    s.turn = null; // abandoned: it stays RUNNING in the store for the next start to recover
                    run.cancelled = true;
                    run.closed = true;
                    log.warn("task {}: turn {} still running at shutdown; interrupted, left for recovery", s.id, run.number);
                }
            }
            engine.turns.interrupt(run);
        }
        engine.writer.stop(Math.max(1000, engine.config.shutdownTimeout().toMillis()));
        ManagerClosedException closedEx = new ManagerClosedException();
        engine.subscriptions.all().forEach(sub -> sub.fail(closedEx));
        if (engine.ownsTimer) {
            engine.timer.shutdownNow();
        }
        engine.deliveryExecutor.shutdown();
        try {
            engine.deliveryExecutor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (engine.ownsTurnExecutor) {
            engine.turnExecutor.shutdownNow();
        }
        try {
            engine.store.removeHost(engine.hostId); // what this host leaves is taken over at once, not after the timeout
        } catch (RuntimeException e) {
            log.warn("removing host {} from the store failed", engine.hostId, e);
        }
        try {
            engine.store.close();
        } catch (RuntimeException e) {
            log.warn("closing the store failed", e);
        }
    }
}
