package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Turn scheduling: who gets a concurrency slot ({@link TurnSlots}), starting a task's next turn,
 * running it on the turn executor, what its end means for the task, timeouts and cancel grace. A slot
 * is released exactly once per turn: by the turn's own thread when it returns, by the grace timer if a
 * cancelled turn ignores its interrupt, or passed on to the task's follow-up turn.
 */
final class TurnScheduler {
    private static final Logger log = LoggerFactory.getLogger(TurnScheduler.class);

    private final Engine engine;
    final TurnSlots<TaskState> slots;
    /** Turns holding a slot; {@link Engine#close()} waits on this set's monitor for it to empty. */
    final Set<TurnRun> runningTurns = ConcurrentHashMap.newKeySet();

    TurnScheduler(Engine e, TurnSlots<TaskState> slots) {
        this.engine = e;
        this.slots = slots;
    }

    /** Queue the task for a slot (its {@code queued} flag is already set). */
    void requestSlot(TaskState s) {
        if (slots.acquireOrQueue(s) && !startTurn(s)) {
            releaseSlot();
        }
    }

    /** Gives up a slot this thread holds: it passes to the next queued task that still needs one. */
    void releaseSlot() {
        TaskState next;
        while ((next = slots.releaseOrPass()) != null) {
            if (startTurn(next)) {
                return; // the slot passed to it
            }
        }
        engine.claims.slotFreed(); // a free slot: claim queued work from the store
    }

    void releaseSlot(TurnRun run) {
        if (run.slotReleased.compareAndSet(false, true)) {
            turnGone(run);
            releaseSlot();
        }
    }

    void turnGone(TurnRun run) {
        synchronized (runningTurns) {
            runningTurns.remove(run);
            runningTurns.notifyAll();
        }
    }

    /**
     * Starts the next turn of a task that holds a slot.
     *
     * @return false if the task no longer needs one (cancelled, deleted, nothing to do)
     */
    boolean startTurn(TaskState s) {
        TurnRun run;
        Turn turn;
        synchronized (s) {
            if (!s.queued || s.turn != null || s.dead || s.deleted || s.task().status().isTerminal() || engine.closed) {
                s.queued = false;
                return false;
            }
            s.queued = false;
            run = beginTurnLocked(s);
            if (run == null) {
                return false;
            }
            turn = turnFor(s, run);
        }
        launch(run, turn);
        return true;
    }

    /** Moves the task to RUNNING for a new turn, consuming the next message. Caller holds the task lock. */
    TurnRun beginTurnLocked(TaskState s) {
        Retries.Pending retry = s.retry; // a retry runs the failed turn again, before any queued message
        s.retry = null;
        boolean resumed = retry != null ? retry.resumed() : s.resumeNext;
        s.resumeNext = false;
        boolean neverStarted = s.turns == 0 && s.task().startedAt() == null;
        PendingMessage pm = null;
        TaskMessage message = null;
        if (retry != null) {
            message = retry.message();
        } else if (resumed) {
            // a resumed turn continues the interrupted one; queued messages run as the turns after it
        } else if (neverStarted && s.firstMessage != null) {
            message = s.firstMessage; // recorded in the log at creation
        } else {
            pm = s.inbox.poll();
            if (pm != null) {
                s.consumed.add(pm.messageId());
            }
            if (pm == null && !neverStarted) {
                return null; // nothing to run
            }
            message = pm == null ? null : pm.message();
        }
        int number = retry != null ? retry.turn() : ++s.turns;
        TurnRun run = new TurnRun(engine, s, number);
        run.message = message;
        if (retry != null) {
            run.attempt = retry.attempt();
            run.messageSeq = retry.messageSeq();
        }
        s.firstMessage = null;
        run.resumed = resumed;
        s.turn = run;
        runningTurns.add(run); // before anything can release its slot
        Instant now = engine.clock.instant();
        List<StoreOp> ops = new ArrayList<>(4);
        TaskStatus from = s.task().status();
        if (from != TaskStatus.RUNNING) {
            ops.addAll(Lifecycle.move(s, TaskStatus.RUNNING, now, engine.hostId, null, null, null));
        }
        if (pm != null) {
            ops.add(new StoreOp.RemoveMessage(s.id, pm.messageId()));
            if (pm.message() != null) {
                run.messageSeq = s.nextSeq;
                ops.add(new StoreOp.AppendEvent(new TaskEvent(s.id, s.nextSeq++, Engine.USER_MESSAGE,
                        userMessageData(number, pm.message()), now)));
            }
        }
        Task after = s.task();
        engine.submitLocked(s, ops, null, () -> {
            if (from != TaskStatus.RUNNING) {
                engine.notify(l -> l.statusChanged(after, from));
            }
            engine.notify(l -> l.turnStarted(after, number));
        });
        return run;
    }

    static Map<String, Object> userMessageData(int turn, TaskMessage m) {
        LinkedHashMap<String, Object> data = new LinkedHashMap<>();
        data.put("turn", (long) turn);
        if (m.text() != null) {
            data.put("text", m.text());
        } else {
            data.put("content", m.content());
        }
        return java.util.Collections.unmodifiableMap(data);
    }

    Turn turnFor(TaskState s, TurnRun run) {
        return new Turn(s.id, s.task().agentId(), run.number, s.task().sessionId(), run.message,
                s.record.options(), s.task().workDir(), run.resumed);
    }

    void launch(TurnRun run, Turn turn) {
        TaskState s = run.state;
        long timeoutMs = s.record.timeoutMillis() > 0 ? s.record.timeoutMillis()
                : engine.config.defaultTimeout() == null ? 0 : engine.config.defaultTimeout().toMillis();
        if (timeoutMs > 0) { // armed before the turn can run, so a test or a host sees it as soon as the turn starts
            run.timeout = engine.timer.schedule(() -> stopTurn(run, TaskStatus.FAILED,
                    "timeout: turn " + run.number + " ran longer than " + Duration.ofMillis(timeoutMs)),
                    timeoutMs, TimeUnit.MILLISECONDS);
        }
        try {
            engine.turnExecutor.execute(() -> execute(run, turn));
        } catch (RejectedExecutionException e) {
            if (run.timeout != null) {
                run.timeout.cancel(false);
            }
            log.error("task {}: executor rejected turn {}", s.id, run.number, e);
            synchronized (s) {
                if (s.turn == run) {
                    s.turn = null;
                    run.closed = true;
                    engine.finishLocked(s, TaskStatus.FAILED, "error", "executor rejected the turn: " + e.getMessage());
                }
            }
            releaseSlot(run);
        }
    }

    void execute(TurnRun run, Turn turn) {
        TaskState s = run.state;
        if (!run.enter()) { // cancelled before its thread started: nothing ran, the slot is free
            releaseSlot(run);
            engine.hooks.turnThreadDone(s);
            return;
        }
        TurnResult result = null;
        Throwable failure = null;
        try {
            result = engine.runner.runTurn(turn, run);
            if (result == null) {
                failure = new IllegalStateException("runner returned no TurnResult");
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            if (run.timeout != null) {
                run.timeout.cancel(false);
            }
            run.exit();
        }
        TurnRun nextRun = null;
        dev.agenttasks.RetryPolicy retryPolicy = failure == null ? null : engine.retries.policyFor(s, failure);
        synchronized (s) {
            if (s.turn != run) {
                log.debug("task {}: turn {} ended after it was cancelled or abandoned", s.id, run.number);
            } else {
                run.closed = true;
                s.turn = null;
                if (failure != null) {
                    String msg = describe(failure);
                    log.info("task {}: turn {} failed: {}", s.id, run.number, msg);
                    if (!engine.retries.retryLocked(run, retryPolicy, msg)) {
                        engine.finishLocked(s, TaskStatus.FAILED, "error", msg);
                    }
                } else if (result.kind() == TurnResult.Kind.AWAITING_INPUT) {
                    Map<String, Object> question = safeData(s, result.data(), "question");
                    if (question != null && !s.inbox.isEmpty()) {
                        engine.transitionLocked(s, TaskStatus.WAITING_FOR_INPUT, null, "question", question);
                        nextRun = beginTurnLocked(s);
                    } else if (question != null) { // waits, unless another host stored a message meanwhile
                        engine.finishing.finishLocked(s, TaskStatus.WAITING_FOR_INPUT, "question", question);
                    }
                } else {
                    Map<String, Object> res = safeData(s, result.data(), "result");
                    // a message another host stored while the turn ran and that its MESSAGE request has not
                    // brought here yet fails the guarded finish, which reopens the task for it (Finishing)
                    if (res != null) {
                        if (!s.inbox.isEmpty()) {
                            nextRun = beginTurnLocked(s); // follow-ups sent while it ran are not dropped
                        } else {
                            // completes, unless another host stored a message meanwhile (Finishing)
                            engine.finishing.finishLocked(s, TaskStatus.COMPLETED, "result", res);
                        }
                    }
                }
            }
        }
        if (nextRun != null) {
            // the slot passes to the next turn, which alone releases it from now on, even if a cancel
            // comes before it is launched (defect 2)
            engine.hooks.betweenTurns(s);
            Turn next;
            synchronized (s) {
                next = turnFor(s, nextRun);
            }
            run.slotReleased.set(true);
            turnGone(run);
            launch(nextRun, next);
            engine.hooks.turnThreadDone(s);
            return;
        }
        releaseSlot(run);
        engine.hooks.turnThreadDone(s);
    }

    Map<String, Object> safeData(TaskState s, Map<String, Object> data, String field) {
        try {
            return Json.copyObject(data, field, engine.limits.maxEventBytes());
        } catch (InvalidRequestException e) {
            engine.finishLocked(s, TaskStatus.FAILED, "error", "runner returned an invalid " + field + ": " + e.getMessage());
            return null;
        }
    }

    static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getName() : m;
    }

    void stopTurn(TurnRun run, TaskStatus to, String reason) {
        TaskState s = run.state;
        synchronized (s) {
            if (s.turn != run) {
                return;
            }
            s.turn = null;
            run.cancelled = true;
            run.closed = true;
            log.info("task {}: {}", s.id, reason);
            engine.finishLocked(s, to, "error", reason);
        }
        interrupt(run);
        scheduleSlotRelease(run);
    }

    static void interrupt(TurnRun run) {
        if (run.timeout != null) {
            run.timeout.cancel(false);
        }
        run.interrupt();
    }

    /**
     * A cancelled turn keeps its slot until its thread really returns, or the grace time passes
     * (defect 3: a cancelled future reports done while the thread still runs).
     */
    void scheduleSlotRelease(TurnRun run) {
        long ms = engine.config.cancelGrace().toMillis();
        if (run.hasReturned()) {
            releaseSlot(run);
            return;
        }
        try {
            engine.timer.schedule(() -> {
                if (!run.slotReleased.get() && !run.hasReturned()) {
                    log.warn("task {}: turn {} ignored cancellation for {} ms; its slot is released anyway",
                            run.state.id, run.number, ms);
                    engine.hooks.graceExpired(run.state);
                    releaseSlot(run);
                }
            }, ms, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            releaseSlot(run);
        }
    }
}
