package dev.agenttasks.internal;

import dev.agenttasks.RetryPolicy;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TurnFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Retries of turns that failed with a transient {@link TurnFailure}, under the task's {@link RetryPolicy}.
 *
 * <p>A transient failure with attempts left records a {@value #RETRY} event (turn, failed attempt,
 * most attempts, delay, next attempt time, error) and moves the task {@code RUNNING → PENDING} in one
 * unit; the task then holds no slot. When the delay has passed on the engine's scheduler, the task
 * queues for a slot and the same turn runs again with the same message. The log is where a restarted
 * manager finds it: a {@code PENDING} task whose last events are that {@code retry} event and its
 * {@code status} event waits for the stored time ({@link #restore}), it is neither failed nor run early.
 * A task's own policy (from its request) is stored as a {@value #POLICY} event when it is created.
 * A cancel (any terminal status) drops a pending retry ({@link #clearLocked}).
 */
final class Retries {
    private static final Logger log = LoggerFactory.getLogger(Retries.class);
    /** The event recording a failed attempt and the next one. */
    static final String RETRY = "retry";
    /** The event recording a task's own retry policy, written at creation. */
    static final String POLICY = "retry_policy";
    private static final int MAX_CAUSES = 16;

    /** A retry waiting for its time: which turn, which attempt comes next, and when. */
    record Pending(int turn, int attempt, Instant at, TaskMessage message, long messageSeq, boolean resumed) {
    }

    private final Engine engine;
    /** Timers of pending retries, so a cancel can drop them; an entry changes under its task's lock. */
    private final Map<TaskState, ScheduledFuture<?>> timers = Collections.synchronizedMap(new IdentityHashMap<>());

    Retries(Engine engine) {
        this.engine = engine;
    }

    // ------------------------------------------------------------------ the policy

    /** The ops that record a task's own policy at creation, or none. */
    static List<StoreOp> policyOps(String taskId, long seq, RetryPolicy p, Instant now) {
        if (p == null) {
            return List.of();
        }
        LinkedHashMap<String, Object> data = new LinkedHashMap<>();
        data.put("initial_interval_ms", p.initialInterval().toMillis());
        data.put("multiplier", p.multiplier());
        data.put("max_interval_ms", p.maxInterval().toMillis());
        data.put("max_attempts", (long) p.maxAttempts());
        return List.of(new StoreOp.AppendEvent(new TaskEvent(taskId, seq, POLICY, Collections.unmodifiableMap(data), now)));
    }

    /**
     * The policy that applies to a failure, or null if the failure is not transient. Reads the task's
     * own policy from its log once (outside the task's lock).
     */
    RetryPolicy policyFor(TaskState s, Throwable failure) {
        if (!isTransient(failure)) {
            return null;
        }
        synchronized (s) {
            if (s.retryPolicyKnown) {
                return s.retryPolicy != null ? s.retryPolicy : engine.config.retryPolicy();
            }
        }
        RetryPolicy own = null;
        try {
            for (TaskEvent e : engine.store.events(s.id, 0, 4)) {
                if (POLICY.equals(e.type())) {
                    own = parsePolicy(e.data());
                }
            }
        } catch (RuntimeException e) {
            log.warn("task {}: could not read its retry policy; using the manager's", s.id, e);
        }
        synchronized (s) {
            s.retryPolicy = own;
            s.retryPolicyKnown = true;
        }
        return own != null ? own : engine.config.retryPolicy();
    }

    static boolean isTransient(Throwable failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Throwable t = failure;
        for (int i = 0; t != null && i < MAX_CAUSES && seen.add(t); i++, t = t.getCause()) {
            if (t instanceof TurnFailure) {
                return ((TurnFailure) t).isTransient();
            }
        }
        return false;
    }

    private static RetryPolicy parsePolicy(Map<String, Object> d) {
        try {
            return new RetryPolicy(Duration.ofMillis(((Number) d.get("initial_interval_ms")).longValue()),
                    ((Number) d.get("multiplier")).doubleValue(),
                    Duration.ofMillis(((Number) d.get("max_interval_ms")).longValue()),
                    ((Number) d.get("max_attempts")).intValue());
        } catch (RuntimeException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ a failed attempt

    /**
     * A turn failed: if the policy leaves attempts, records the retry, moves the task to
     * {@code PENDING} and schedules the next attempt. Caller holds the task's lock; the turn is closed.
     *
     * @param policy the policy from {@link #policyFor}, null if the failure is not transient
     * @return true if the turn will be retried; false if the task must fail
     */
    boolean retryLocked(TurnRun run, RetryPolicy policy, String error) {
        TaskState s = run.state;
        if (policy == null || run.attempt >= policy.maxAttempts()
                || s.task().status() != TaskStatus.RUNNING) {
            return false;
        }
        Duration delay = policy.delayAfter(run.attempt);
        Instant now = engine.clock.instant();
        Instant at = now.plus(delay);
        Pending p = new Pending(run.number, run.attempt + 1, at, run.message, run.messageSeq, run.resumed);
        LinkedHashMap<String, Object> data = new LinkedHashMap<>();
        data.put("turn", (long) run.number);
        data.put("attempt", (long) run.attempt);
        data.put("max_attempts", (long) policy.maxAttempts());
        data.put("delay_ms", delay.toMillis());
        data.put("next_attempt_at", at.toString());
        data.put("error", error);
        if (run.messageSeq > 0) {
            data.put("message_seq", run.messageSeq);
        }
        if (run.resumed) {
            data.put("resumed", true);
        }
        TaskEvent e = new TaskEvent(s.id, s.nextSeq++, RETRY, Collections.unmodifiableMap(data), now);
        s.retry = p;
        int failed = run.attempt;
        CompletableFuture<Void> done = engine.transitionLocked(s, List.of(new StoreOp.AppendEvent(e)),
                TaskStatus.PENDING, null, null, null);
        Task task = s.task();
        done.whenComplete((v, ex) -> {
            if (ex == null) {
                engine.notify(l -> l.turnRetrying(task, p.turn(), failed, at, error));
                schedule(s, p);
            }
        });
        log.info("task {}: turn {} attempt {} of {} failed ({}); next attempt at {}", s.id, run.number, run.attempt,
                policy.maxAttempts(), error, at);
        return true;
    }

    private void schedule(TaskState s, Pending p) {
        long ms = Math.max(0, Duration.between(engine.clock.instant(), p.at()).toMillis());
        synchronized (s) {
            if (s.retry != p) {
                return; // cancelled or interrupted meanwhile
            }
            try {
                timers.put(s, engine.timer.schedule(() -> due(s, p), ms, TimeUnit.MILLISECONDS));
            } catch (RejectedExecutionException e) {
                log.debug("task {}: retry not scheduled, the manager is closing", s.id);
            }
        }
    }

    /** Timer: the delay has passed; the task queues for a slot. */
    private void due(TaskState s, Pending p) {
        synchronized (s) {
            if (s.retry != p || engine.closed || s.deleted || s.dead || s.task().status() != TaskStatus.PENDING) {
                return;
            }
            timers.remove(s);
            s.queued = true;
        }
        engine.turns.requestSlot(s);
    }

    /** Drops a pending retry (cancel, interrupt, any terminal status). Caller holds the task's lock. */
    void clearLocked(TaskState s) {
        s.retry = null;
        ScheduledFuture<?> f = timers.remove(s);
        if (f != null) {
            f.cancel(false);
        }
    }

    // ------------------------------------------------------------------ after a restart

    /**
     * A {@code PENDING} task found at start: if its log ends with a retry, waits for the stored time.
     *
     * @return true if the task waits for a retry (the caller must not queue it now)
     */
    boolean restore(TaskState s) {
        long last;
        synchronized (s) {
            if (s.task().status() != TaskStatus.PENDING) {
                return false;
            }
            last = s.record.lastSeq();
        }
        if (last < 2) {
            return false;
        }
        List<TaskEvent> tail = engine.store.events(s.id, last - 2, 2);
        if (tail.size() != 2 || !RETRY.equals(tail.get(0).type()) || !tail.get(1).isStatus()
                || !TaskStatus.PENDING.wireName().equals(tail.get(1).data().get("status"))) {
            return false;
        }
        Map<String, Object> d = tail.get(0).data();
        Pending p;
        try {
            int turn = ((Number) d.get("turn")).intValue();
            long messageSeq = d.get("message_seq") instanceof Number ? ((Number) d.get("message_seq")).longValue() : 0;
            p = new Pending(turn, ((Number) d.get("attempt")).intValue() + 1, Instant.parse((String) d.get("next_attempt_at")),
                    messageOf(s, turn, messageSeq), messageSeq, Boolean.TRUE.equals(d.get("resumed")));
        } catch (RuntimeException e) { // ClassCast, NullPointer, DateTimeParse: not a retry this engine wrote
            log.warn("task {}: unreadable retry event ({}); queueing the task", s.id, e.toString());
            return false;
        }
        synchronized (s) {
            s.retry = p;
        }
        log.info("task {}: waiting for its retry of turn {} (attempt {}) at {}", s.id, p.turn(), p.attempt(), p.at());
        schedule(s, p);
        return true;
    }

    /** The message of a turn: its {@code user_message} event (turn 1: the one recorded at creation). */
    private TaskMessage messageOf(TaskState s, int turn, long messageSeq) {
        if (messageSeq > 0) {
            for (TaskEvent e : engine.store.events(s.id, messageSeq - 1, 1)) {
                if (Engine.USER_MESSAGE.equals(e.type())) {
                    return message(e.data());
                }
            }
            return null;
        }
        if (turn == 1) {
            for (TaskEvent e : engine.store.events(s.id, 0, 4)) {
                if (Engine.USER_MESSAGE.equals(e.type()) && Long.valueOf(1).equals(e.data().get("turn"))) {
                    return message(e.data());
                }
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static TaskMessage message(Map<String, Object> data) {
        Object text = data.get("text");
        if (text instanceof String) {
            return TaskMessage.text((String) text);
        }
        Object content = data.get("content");
        return content instanceof List ? TaskMessage.content((List<Map<String, Object>>) content) : null;
    }
}
