package dev.agenttasks;

import dev.agenttasks.internal.Engine;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Runs agent work as persistent background tasks.
 *
 * <p>A task runs on the manager's executor whether or not anyone watches it. Every event it emits is
 * committed to the {@link TaskStore} before any subscriber sees it, and {@link #events(String, long)}
 * replays the log from any point and then follows it live, so a client can leave and rejoin without
 * losing or doubling an event. A task that asks the user something waits in
 * {@link TaskStatus#WAITING_FOR_INPUT} holding no thread until {@link #sendMessage} brings the answer.
 *
 * <pre>{@code
 * try (TaskManager tasks = TaskManager.builder()
 *         .store(TaskStore.inMemory())
 *         .runner(myRunner)
 *         .build()) {
 *     Task task = tasks.create(TaskRequest.of("coder", "Write a haiku"));
 *     tasks.events(task.id()).subscribe(mySubscriber);
 * }
 * }</pre>
 *
 * <p>All methods are thread-safe. Bad input fails with an {@link InvalidRequestException} (or a
 * subclass) before anything is written; after {@link #close()} every method but {@link #stats()} and
 * {@code close()} throws {@link ManagerClosedException} (a subscription signals it through
 * {@code onError}), and a call racing {@code close()} ends with it rather than waiting forever.
 */
public interface TaskManager extends AutoCloseable {

    /**
     * Validates the request, resolves the agent, stores the task as {@code PENDING} and queues its
     * first turn. Returns once the task is durably stored.
     *
     * @param request what to run
     * @return the new task (status {@code PENDING}; it may already be running by the time it returns)
     * @throws InvalidRequestException  on bad input, including {@link UnknownAgentException}
     * @throws PayloadTooLargeException if a value exceeds the {@link TaskLimits}
     * @throws ManagerClosedException   after {@link #close()}
     */
    Task create(TaskRequest request);

    /**
     * @param taskId a task id
     * @return the task's current snapshot, or empty if there is no such task
     */
    Optional<Task> get(String taskId);

    /**
     * Lists tasks, newest first, filtered and paged by the query.
     *
     * @param query filters, page size and cursor
     * @return one page, with the cursor of the next one
     * @throws InvalidRequestException if the cursor is not one this manager issued
     */
    TaskPage list(TaskQuery query);

    /**
     * Cancels a task. A running turn is interrupted and its cancellation flag set; the task is
     * recorded {@code CANCELLED} at once, and whatever the turn emits afterwards is dropped. A pending
     * or waiting task is cancelled immediately.
     *
     * @param taskId the task
     * @return true if this call cancelled it, false if it had already finished
     * @throws NoSuchTaskException if there is no such task
     */
    boolean cancel(String taskId);

    /**
     * Cancels the task if it is not finished, then removes it with its events and messages. Open
     * subscriptions to it end with {@link TaskDeletedException}.
     *
     * @param taskId the task
     * @return true if it was deleted, false if there was no such task
     */
    boolean delete(String taskId);

    /**
     * Sends a follow-up message. A task waiting for input is stored {@code PENDING} together with the
     * message and starts its next turn with it (with the saved session id) as soon as a slot is free,
     * also after a restart; a pending or running task stores it and runs it as the next turn when the
     * current one ends. The message is durably stored before this returns.
     *
     * @param taskId  the task
     * @param message the message
     * @return what happened to it
     * @throws NoSuchTaskException                 if there is no such task
     * @throws TaskNotAcceptingMessagesException if the task has finished
     * @throws InvalidRequestException             if the message is empty or invalid
     */
    SendResult sendMessage(String taskId, TaskMessage message);

    /**
     * Sends a follow-up message at most once per idempotency key: a retry with a key already used for
     * the same task and the same message returns the first call's result without storing the message
     * again (on any host sharing the store). Keys are scoped to the task and deleted with it.
     *
     * @param taskId         the task
     * @param message        the message
     * @param idempotencyKey the key, or {@code null} for none (then as {@link #sendMessage(String, TaskMessage)})
     * @return what happened to it (for a retry: what happened to the first)
     * @throws NoSuchTaskException                 if there is no such task
     * @throws TaskNotAcceptingMessagesException if the task has finished (and the key was not used before)
     * @throws InvalidRequestException             if the message or the key is empty or invalid
     * @throws IdempotencyKeyMismatchException     if the key was used for a different message to the task
     */
    SendResult sendMessage(String taskId, TaskMessage message, String idempotencyKey);

    /** @return the number of tasks {@code RUNNING} or {@code WAITING_FOR_INPUT} (the badge count) */
    int runningCount();

    /** @return the number of tasks in each status; every status is a key */
    Map<TaskStatus, Long> countByStatus();

    /**
     * The whole event log of a task, then its live events; completes after the terminal status event,
     * which is always delivered before {@code onComplete}.
     *
     * @param taskId the task
     * @return a cold publisher; each subscription is an independent cursor with its own demand
     */
    default Flow.Publisher<TaskEvent> events(String taskId) {
        return events(taskId, 0);
    }

    /**
     * The events of a task after {@code afterSeq}, in order, with no gap and no duplicate, then its live
     * events; completes after the terminal status event (at once if that is at or before
     * {@code afterSeq}). An unknown task signals {@link NoSuchTaskException} through
     * {@code onError}; a deleted one {@link TaskDeletedException}.
     *
     * @param taskId   the task
     * @param afterSeq the last seq the subscriber has seen, 0 for all
     * @return a cold publisher; each subscription is an independent cursor with its own demand
     * @throws InvalidRequestException if {@code afterSeq} is negative or the id is blank
     */
    Flow.Publisher<TaskEvent> events(String taskId, long afterSeq);

    /**
     * A future of the task's end, for a host that wants the outcome rather than the events: it completes
     * with the task's final snapshot (a terminal {@link Task#status()}, its {@link Task#error()} and
     * {@link Task#lastSeq()}) once the terminal status event is committed and delivered. No thread waits
     * on it in the meantime; bound the wait with {@link CompletableFuture#orTimeout} or
     * {@link CompletableFuture#get(long, java.util.concurrent.TimeUnit)}. A task already finished gives a
     * completed future at once.
     *
     * <p>The future fails with {@link TaskDeletedException} if the task is deleted before it ends, with
     * {@link ManagerClosedException} if the manager closes first (a task left running by
     * {@link #close()} ends under the next manager), and with {@link TaskStoreException} if the store
     * fails while following the task. Cancelling the future only stops following the task; it does not
     * cancel the task (use {@link #cancel(String)}).
     *
     * <p>The default implementation follows {@link #events(String, long)} from the task's current
     * {@link Task#lastSeq()}, discarding the events.
     *
     * @param taskId the task
     * @return a future of the finished task
     * @throws InvalidRequestException if the id is blank
     * @throws NoSuchTaskException     if there is no such task
     */
    default CompletableFuture<Task> whenFinished(String taskId) {
        Task current = get(taskId).orElseThrow(() -> new NoSuchTaskException(taskId));
        return TaskEnd.follow(this, current);
    }

    /** @return the engine's counters */
    ManagerStats stats();

    /**
     * Stops accepting work, lets running turns finish for up to the configured shutdown timeout,
     * interrupts those still running (they stay {@code RUNNING} in the store and are recovered by the
     * next manager's {@link RecoveryPolicy}), flushes every acknowledged write and closes the store.
     * Queued tasks stay {@code PENDING} and the next manager queues them again. Idempotent.
     */
    @Override
    void close();

    /** @return a builder */
    static Builder builder() {
        return new Builder();
    }

    /** Configures and builds a {@link TaskManager}. Not thread-safe. */
    final class Builder {
        /** Default {@link #maxConcurrentTasks(int)}: 16. */
        public static final int DEFAULT_MAX_CONCURRENT_TASKS = 16;
        /**
         * Default {@link #liveTailSize(int)}: 4096 events per task (four writer batches, so live
         * subscribers keep up from memory; the ring grows only as a task emits and is dropped when it
         * waits or finishes).
         */
        public static final int DEFAULT_LIVE_TAIL_SIZE = 4096;
        /**
         * Default {@link #liveTailBytes(long)}: 8 MiB per task (4096 events of 2 KiB; a task emitting
         * larger events keeps fewer of them in memory).
         */
        public static final long DEFAULT_LIVE_TAIL_BYTES = 8L << 20;
        /** Default {@link #pageSize(int)}: 1024 events. */
        public static final int DEFAULT_PAGE_SIZE = 1024;
        /** Default {@link #cancelGrace(Duration)}: 5 seconds. */
        public static final Duration DEFAULT_CANCEL_GRACE = Duration.ofSeconds(5);
        /** Default {@link #shutdownTimeout(Duration)}: 10 seconds. */
        public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
        /** Default {@link #maxBatchSize(int)}: 1024 writes per transaction. */
        public static final int DEFAULT_MAX_BATCH_SIZE = 1024;
        /** Default {@link #writeQueueCapacity(int)}: 65536 pending writes. */
        public static final int DEFAULT_WRITE_QUEUE_CAPACITY = 65536;
        /** Default {@link #writeQueueBytes(long)}: 64 MiB of emitted events waiting for the store. */
        public static final long DEFAULT_WRITE_QUEUE_BYTES = 64L << 20;
        /** Default {@link #heartbeatInterval(Duration)}: 5 seconds. */
        public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(5);
        /** Default {@link #hostDeadAfter(Duration)}: 30 seconds (six missed heartbeats). */
        public static final Duration DEFAULT_HOST_DEAD_AFTER = Duration.ofSeconds(30);
        /** Default {@link #pollInterval(Duration)}: 1 second. */
        public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
        /** Default {@link #eventPollInterval(Duration)}: 150 milliseconds. */
        public static final Duration DEFAULT_EVENT_POLL_INTERVAL = Duration.ofMillis(150);
        /** Default {@link #transientErrorBudget(Duration)}: 30 seconds. */
        public static final Duration DEFAULT_TRANSIENT_ERROR_BUDGET = Duration.ofSeconds(30);

        TaskStore store;
        AgentRunner runner;
        int maxConcurrentTasks = DEFAULT_MAX_CONCURRENT_TASKS;
        Duration defaultTimeout;
        Duration cancelGrace = DEFAULT_CANCEL_GRACE;
        Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        Duration commitDelay = Duration.ZERO;
        ExecutorService executor;
        int liveTailSize = DEFAULT_LIVE_TAIL_SIZE;
        int pageSize = DEFAULT_PAGE_SIZE;
        int maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
        int writeQueueCapacity = DEFAULT_WRITE_QUEUE_CAPACITY;
        long liveTailBytes = DEFAULT_LIVE_TAIL_BYTES;
        long writeQueueBytes = DEFAULT_WRITE_QUEUE_BYTES;
        int deliveryThreads = Math.max(2, Runtime.getRuntime().availableProcessors());
        RecoveryPolicy recoveryPolicy = RecoveryPolicy.failInterrupted();
        final List<TaskListener> listeners = new ArrayList<>();
        TaskLimits limits = TaskLimits.defaults();
        Clock clock = Clock.systemUTC();
        String hostId;
        Duration heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
        Duration hostDeadAfter = DEFAULT_HOST_DEAD_AFTER;
        Duration pollInterval = DEFAULT_POLL_INTERVAL;
        Duration eventPollInterval = DEFAULT_EVENT_POLL_INTERVAL;
        Duration transientErrorBudget = DEFAULT_TRANSIENT_ERROR_BUDGET;
        ScheduledExecutorService scheduler;

        Builder() {
        }

        /**
         * @param store where tasks and events live (required)
         * @return this
         */
        public Builder store(TaskStore store) {
            this.store = Objects.requireNonNull(store, "store can not be null");
            return this;
        }

        /**
         * @param runner how agents are resolved and run (required)
         * @return this
         */
        public Builder runner(AgentRunner runner) {
            this.runner = Objects.requireNonNull(runner, "runner can not be null");
            return this;
        }

        /**
         * @param n most turns running at once; further tasks stay {@code PENDING} in creation order
         * @return this
         */
        public Builder maxConcurrentTasks(int n) {
            this.maxConcurrentTasks = positive(n, "maxConcurrentTasks");
            return this;
        }

        /**
         * @param timeout longest a turn may run before its task fails, unless the request sets one; null for none
         * @return this
         */
        public Builder defaultTimeout(Duration timeout) {
            this.defaultTimeout = timeout == null ? null : positive(timeout, "defaultTimeout");
            return this;
        }

        /**
         * @param grace how long a cancelled or timed-out turn whose thread has not returned (it ignores
         *              the interrupt) keeps its concurrency slot before the slot is given to the next
         *              task with a warning; the slot is never freed while the thread runs within the grace
         * @return this
         */
        public Builder cancelGrace(Duration grace) {
            this.cancelGrace = nonNegative(grace, "cancelGrace");
            return this;
        }

        /**
         * @param timeout how long {@link TaskManager#close()} waits for running turns
         * @return this
         */
        public Builder shutdownTimeout(Duration timeout) {
            this.shutdownTimeout = nonNegative(timeout, "shutdownTimeout");
            return this;
        }

        /**
         * @param delay how long the writer waits to gather a larger batch (default 0: commit what is queued)
         * @return this
         */
        public Builder commitDelay(Duration delay) {
            this.commitDelay = nonNegative(delay, "commitDelay");
            return this;
        }

        /**
         * @param executor runs agent turns; the manager does not shut it down. By default: a virtual
         *                 thread per turn on Java 21+, a bounded platform pool on 17.
         * @return this
         */
        public Builder executor(ExecutorService executor) {
            this.executor = Objects.requireNonNull(executor, "executor can not be null");
            return this;
        }

        /**
         * @param n committed events each active task keeps in memory for live subscribers (see also
         *          {@link #liveTailBytes(long)})
         * @return this
         */
        public Builder liveTailSize(int n) {
            this.liveTailSize = positive(n, "liveTailSize");
            return this;
        }

        /**
         * The byte budget of each active task's live tail, next to its event count
         * ({@link #liveTailSize(int)}): when the events held would exceed it, the oldest are dropped from
         * memory (never from the store; a subscriber that needs them reads them from the store). An event
         * counts the length of its type and of its data's compact JSON encoding plus 64 for its other
         * fields. The newest event always stays, even when it alone is larger than the budget.
         *
         * @param bytes most bytes of events each active task keeps in memory for live subscribers
         * @return this
         */
        public Builder liveTailBytes(long bytes) {
            this.liveTailBytes = positive(bytes, "liveTailBytes");
            return this;
        }

        /**
         * @param n the most events a subscription that fell behind reads from the store at a time and
         *          holds in memory; it reads fewer when its outstanding demand is smaller (at least 64)
         * @return this
         */
        public Builder pageSize(int n) {
            this.pageSize = positive(n, "pageSize");
            return this;
        }

        /**
         * @param n most writes in one store transaction
         * @return this
         */
        public Builder maxBatchSize(int n) {
            this.maxBatchSize = positive(n, "maxBatchSize");
            return this;
        }

        /**
         * @param n writes queued before emitters wait for the store (see also {@link #writeQueueBytes(long)})
         * @return this
         */
        public Builder writeQueueCapacity(int n) {
            this.writeQueueCapacity = positive(n, "writeQueueCapacity");
            return this;
        }

        /**
         * The byte budget of the events runners have emitted that wait for the store, next to their
         * count ({@link #writeQueueCapacity(int)}): a runner's {@code emit} waits while the queued
         * events' size (counted as for {@link #liveTailBytes(long)}) would exceed it. An event larger
         * than the whole budget waits until the queue is empty.
         *
         * @param bytes most bytes of emitted events queued for the store
         * @return this
         */
        public Builder writeQueueBytes(long bytes) {
            this.writeQueueBytes = positive(bytes, "writeQueueBytes");
            return this;
        }

        /**
         * @param n threads that deliver events to subscribers
         * @return this
         */
        public Builder deliveryThreads(int n) {
            this.deliveryThreads = positive(n, "deliveryThreads");
            return this;
        }

        /**
         * @param policy what to do at start with tasks a dead host left running
         * @return this
         */
        public Builder recoveryPolicy(RecoveryPolicy policy) {
            this.recoveryPolicy = Objects.requireNonNull(policy, "recoveryPolicy can not be null");
            return this;
        }

        /**
         * @param listener receives lifecycle callbacks; may be called several times
         * @return this
         */
        public Builder listener(TaskListener listener) {
            this.listeners.add(Objects.requireNonNull(listener, "listener can not be null"));
            return this;
        }

        /**
         * @param limits size limits for input
         * @return this
         */
        public Builder limits(TaskLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits can not be null");
            return this;
        }

        /**
         * @param clock source of timestamps; give the same clock that drives a {@link #scheduler} of
         *              your own so that timestamps and timers agree
         * @return this
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock can not be null");
            return this;
        }

        /**
         * The scheduler that runs the manager's timers: turn timeouts ({@link #defaultTimeout},
         * {@link TaskRequest#timeout()}), the end of a {@link #cancelGrace}, and the retries of a final
         * status the store refused. The manager only calls
         * {@link ScheduledExecutorService#schedule(Runnable, long, java.util.concurrent.TimeUnit)} on it
         * (and cancels what it scheduled); timers must run promptly and briefly on it, never on a caller's
         * thread inside {@code schedule}. The manager does not shut it down; a timer that fires after
         * {@link TaskManager#close()} does nothing. A test passes a manual scheduler together with a
         * settable {@link #clock} to drive time instead of waiting for it. By default the manager runs
         * one daemon timer thread of its own.
         *
         * @param scheduler runs the timers
         * @return this
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler can not be null");
            return this;
        }

        /**
         * How long the writer keeps retrying a batch of writes that the store failed with a
         * {@link dev.agenttasks.spi.TransientStoreException} (a lock held by another connection, a
         * dropped connection) before it treats the failure as permanent and fails the tasks of the
         * batch. Retries back off from 5 ms to 1 s; all writes wait meanwhile.
         *
         * @param budget total retry time per batch; zero fails at the first transient error
         * @return this
         */
        public Builder transientErrorBudget(Duration budget) {
            this.transientErrorBudget = nonNegative(budget, "transientErrorBudget");
            return this;
        }

        /**
         * The name of this host among the managers sharing the store, recorded as the owner of the tasks
         * it claims. Default: a random id per manager. A stable id (for example the machine's name)
         * lets a restarted host recover the tasks it left at once, instead of after
         * {@link #hostDeadAfter(Duration)}; two live managers must never share one.
         *
         * @param hostId name of this host (1 to 200 characters)
         * @return this
         */
        public Builder hostId(String hostId) {
            Objects.requireNonNull(hostId, "hostId can not be null");
            if (hostId.isBlank() || hostId.length() > 200) {
                throw new IllegalArgumentException("hostId must be 1 to 200 characters and not blank");
            }
            this.hostId = hostId;
            return this;
        }

        /**
         * How often this host records its heartbeat in the store (one write per interval) and looks for
         * dead hosts' tasks to take over. Default {@link #DEFAULT_HEARTBEAT_INTERVAL}.
         *
         * @param interval the interval
         * @return this
         */
        public Builder heartbeatInterval(Duration interval) {
            this.heartbeatInterval = positive(Objects.requireNonNull(interval, "heartbeatInterval can not be null"),
                    "heartbeatInterval");
            return this;
        }

        /**
         * How long a host may miss heartbeats before the others consider it dead and take its tasks
         * over through the {@link #recoveryPolicy(RecoveryPolicy) recovery policy}; takeover happens
         * within this plus one {@link #heartbeatInterval(Duration) heartbeat interval}. Must exceed the
         * heartbeat interval (and the clock skew between hosts, and the longest pause a host may
         * survive without losing its tasks). Default {@link #DEFAULT_HOST_DEAD_AFTER}.
         *
         * @param timeout the timeout
         * @return this
         */
        public Builder hostDeadAfter(Duration timeout) {
            this.hostDeadAfter = positive(Objects.requireNonNull(timeout, "hostDeadAfter can not be null"),
                    "hostDeadAfter");
            return this;
        }

        /**
         * How often this host polls the store for queued tasks to claim and for requests other hosts
         * left for its tasks (cancel, delete, messages), when no wake-up came sooner. Default
         * {@link #DEFAULT_POLL_INTERVAL}.
         *
         * @param interval the interval
         * @return this
         */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = positive(Objects.requireNonNull(interval, "pollInterval can not be null"),
                    "pollInterval");
            return this;
        }

        /**
         * How often a subscriber of a task that runs on another host re-reads the store for new events,
         * when no wake-up came sooner. Default {@link #DEFAULT_EVENT_POLL_INTERVAL}.
         *
         * @param interval the interval
         * @return this
         */
        public Builder eventPollInterval(Duration interval) {
            this.eventPollInterval = positive(Objects.requireNonNull(interval, "eventPollInterval can not be null"),
                    "eventPollInterval");
            return this;
        }

        /**
         * Builds the manager, opens the store and recovers tasks a previous host left unfinished.
         *
         * @return a started manager
         * @throws IllegalStateException if the store or runner is missing
         */
        public TaskManager build() {
            if (store == null) {
                throw new IllegalStateException("store is required");
            }
            if (runner == null) {
                throw new IllegalStateException("runner is required");
            }
            if (hostDeadAfter.compareTo(heartbeatInterval) <= 0) {
                throw new IllegalStateException("hostDeadAfter (" + hostDeadAfter + ") must exceed heartbeatInterval ("
                        + heartbeatInterval + ")");
            }
            return new Engine(new Engine.Config(store, runner, maxConcurrentTasks, defaultTimeout, cancelGrace,
                    shutdownTimeout, commitDelay, executor, liveTailSize, pageSize, maxBatchSize,
                    writeQueueCapacity, deliveryThreads, recoveryPolicy, List.copyOf(listeners), limits, clock,
                    hostId, transientErrorBudget, scheduler, liveTailBytes, writeQueueBytes,
                    new Engine.Hosting(heartbeatInterval, hostDeadAfter, pollInterval, eventPollInterval)));
        }

        private static int positive(int n, String name) {
            if (n < 1) {
                throw new IllegalArgumentException(name + " must be positive: " + n);
            }
            return n;
        }

        private static long positive(long n, String name) {
            if (n < 1) {
                throw new IllegalArgumentException(name + " must be positive: " + n);
            }
            return n;
        }

        private static Duration positive(Duration d, String name) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(name + " must be positive: " + d);
            }
            return d;
        }

        private static Duration nonNegative(Duration d, String name) {
            Objects.requireNonNull(d, name + " can not be null");
            if (d.isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative: " + d);
            }
            return d;
        }
    }
}
