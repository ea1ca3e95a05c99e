package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.ManagerStats;
import dev.agenttasks.MessageStrategy;
import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.RetryPolicy;
import dev.agenttasks.SendOptions;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskLimits;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskPage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine behind {@link TaskManager}: the public calls (validation, create, cancel, delete, messages,
 * queries, subscriptions, close), wired to the parts that do the work, one responsibility each:
 * {@link Lifecycle} (the one transition path), {@link TurnScheduler} with its {@link TurnSlots} seam
 * (slots, queue, turns, timeouts, cancel grace), {@link TaskRecovery} (what a starting host takes
 * over), {@link TaskStates} (tasks in memory), {@link Writer} and {@link Commits} (group commit and what
 * its outcomes mean), {@link RunnerCallbacks} (what a turn calls), {@link SubscriptionRegistry} and
 * {@link EventSubscription} (delivery), {@link Creation} (create), {@link Admission} (input checks),
 * {@link Queries} (reads) and {@link Shutdown} (the ordered close). Not part of the public API; build it with
 * {@link TaskManager#builder()}.
 */
public final class Engine implements TaskManager {
    static final Logger log = LoggerFactory.getLogger(Engine.class);
    static final String USER_MESSAGE = "user_message";

    /** Validated builder settings. */
    public record Config(TaskStore store, AgentRunner runner, int maxConcurrentTasks, Duration defaultTimeout,
                         Duration cancelGrace, Duration shutdownTimeout, Duration commitDelay,
                         ExecutorService executor, int liveTailSize, int pageSize, int maxBatchSize,
                         int writeQueueCapacity, int deliveryThreads, RecoveryPolicy recoveryPolicy,
                         List<TaskListener> listeners, TaskLimits limits, Clock clock, String hostId,
                         Duration transientErrorBudget, ScheduledExecutorService scheduler,
                         long liveTailBytes, long writeQueueBytes, Hosting hosting, RetryPolicy retryPolicy,
                         MessageStrategy messageStrategy) {
    }

    /** Settings of the multi-host protocol (see docs/multi-host.md). */
    public record Hosting(Duration heartbeatInterval, Duration hostDeadAfter, Duration pollInterval,
                          Duration eventPollInterval) {
    }

    final Config config;
    final TaskStore store;
    final AgentRunner runner;
    final TaskLimits limits;
    final Admission admission;
    final Clock clock;
    final String hostId;
    final List<TaskListener> listeners;
    final ExecutorService turnExecutor;
    final boolean ownsTurnExecutor;
    /** Runs subscriptions' signals; not final only so that an interleaving test can run them on threads it tracks. */
    ExecutorService deliveryExecutor;
    /** Runs timeouts, cancel grace and final-status retries; the host's if it gave one. */
    final ScheduledExecutorService timer;
    final boolean ownsTimer;
    final Writer writer;

    final ConcurrentHashMap<String, TaskState> active = new ConcurrentHashMap<>();
    final SubscriptionRegistry<EventSubscription> subscriptions = new SubscriptionRegistry<>();
    final Object loadLock = new Object();

    // scheduling (never held while taking a task's lock)
    final TurnScheduler turns;
    final TaskStates tasks = new TaskStates(this);
    final RunnerCallbacks callbacks = new RunnerCallbacks(this);
    final Commits commits = new Commits(this);
    final Queries queries = new Queries(this);
    final Ownership ownership = new Ownership(this);
    final RemoteOps remote = new RemoteOps(this);
    final RemoteEvents remoteEvents = new RemoteEvents(this);
    final Idempotency idempotency = new Idempotency(this);
    final Messages messages = new Messages(this);
    final Claims claims;
    final Hosts hosts;
    final Retries retries = new Retries(this);
    final MessageStrategies strategies = new MessageStrategies(this);
    final Finishing finishing = new Finishing(this);
    final Creation creation = new Creation(this);

    volatile boolean closed;
    /** After close: when waits for the writer give up (System.nanoTime). */
    volatile long closeDeadline;
    /** Race-window hooks for tests; {@link EngineHooks#NONE} in production. */
    volatile EngineHooks hooks = EngineHooks.NONE;
    /** Task and message ids; {@link Ids#TIME_ORDERED} in production, a deterministic source in interleaving tests. */
    volatile Ids.Source ids = Ids.TIME_ORDERED;
    final AtomicLong eventsAppended = new AtomicLong();
    final AtomicLong eventsDelivered = new AtomicLong();
    final AtomicLong eventsDropped = new AtomicLong();
    final AtomicInteger peakTail = new AtomicInteger();
    final AtomicInteger peakBuffer = new AtomicInteger();

    /** @param config settings from the builder */
    public Engine(Config config) {
        this.config = config;
        this.store = config.store();
        this.runner = config.runner();
        this.limits = config.limits();
        this.admission = new Admission(limits);
        this.clock = config.clock();
        this.hostId = config.hostId() != null ? config.hostId() : "host-" + UUID.randomUUID();
        this.listeners = config.listeners();
        this.turns = new TurnScheduler(this, new LocalTurnSlots<>(config.maxConcurrentTasks()));
        this.claims = new Claims(this, config.maxConcurrentTasks());
        this.hosts = new Hosts(this, config.hosting());
        if (config.executor() != null) {
            this.turnExecutor = config.executor();
            this.ownsTurnExecutor = false;
        } else {
            this.turnExecutor = EngineThreads.defaultTurnExecutor(config.maxConcurrentTasks());
            this.ownsTurnExecutor = true;
        }
        this.deliveryExecutor = Executors.newFixedThreadPool(config.deliveryThreads(), EngineThreads.named("agent-tasks-delivery-"));
        if (config.scheduler() != null) {
            this.timer = config.scheduler();
            this.ownsTimer = false;
        } else {
            ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, EngineThreads.named("agent-tasks-timer-"));
            t.setRemoveOnCancelPolicy(true);
            this.timer = t;
            this.ownsTimer = true;
        }
        this.writer = new Writer(this, store, config.writeQueueCapacity(), config.writeQueueBytes(), config.maxBatchSize(),
                config.commitDelay().toNanos(), config.transientErrorBudget().toNanos());
        hosts.register(); // before recovery: no other host takes this one for dead
        List<TaskState> recovered = new StartupRecovery(store, config.recoveryPolicy(), clock, hostId,
                ownership::adopt, this::notify).recover();
        writer.start();
        for (TaskState s : recovered) {
            if (retries.restore(s)) {
                continue; // waits for its retry's stored time
            }
            synchronized (s) {
                s.queued = true;
            }
            turns.requestSlot(s);
        }
        hosts.start();
    }

    // ------------------------------------------------------------------ executors

    /** @return true if turns run on virtual threads */
    public boolean usesVirtualThreads() {
        return ownsTurnExecutor && !(turnExecutor instanceof ThreadPoolExecutor);
    }

    void deliver(EventSubscription s) {
        try {
            deliveryExecutor.execute(s);
        } catch (RejectedExecutionException e) {
            s.run(); // after close: finish the signal on the caller's thread
        }
    }

    // ------------------------------------------------------------------ state lookup

    /** The size of a page read for a subscriber's outstanding demand: at least 64 events, at most the page size. */
    int pageSize(long demand) {
        int max = config.pageSize();
        return (int) Math.min(max, Math.max(Math.min(64, max), demand));
    }

    void checkOpen() {
        if (closed) {
            throw new ManagerClosedException();
        }
    }

    // ------------------------------------------------------------------ create

    @Override
    public Task create(TaskRequest request) {
        return creation.create(request);
    }

    // ------------------------------------------------------------------ transitions and writes

    /** Caller holds the lock. Queues a unit of ops for the writer. */
    void submitLocked(TaskState s, List<StoreOp> ops, CompletableFuture<Void> done, Runnable afterCommit) {
        writer.submit(new Writer.Unit(s, s.writeGeneration, ops, done, afterCommit));
    }

    /** Caller holds the lock. Records a status change and its status event in one unit. */
    CompletableFuture<Void> transitionLocked(TaskState s, TaskStatus to, String error, String key, Object value) {
        return transitionLocked(s, List.of(), to, error, key, value);
    }

    /** As above, with ops written in the same unit before the status change. */
    CompletableFuture<Void> transitionLocked(TaskState s, List<StoreOp> before, TaskStatus to, String error,
                                                     String key, Object value) {
        return transitionLocked(s, before, to, error, key, value, null);
    }

    /** As above; a guarded unit also requires that no message is pending ({@link Finishing}). */
    CompletableFuture<Void> transitionLocked(TaskState s, List<StoreOp> before, TaskStatus to, String error,
                                             String key, Object value, Finishing.Guard guard) {
        TaskStatus from = s.task().status();
        List<StoreOp> change = Lifecycle.move(s, to, clock.instant(), hostId, error, key, value);
        Task t = s.task();
        List<StoreOp> ops = new ArrayList<>(before.size() + 2);
        ops.addAll(before);
        ops.addAll(change);
        CompletableFuture<Void> done = new CompletableFuture<>();
        Writer.Unit u = new Writer.Unit(s, s.writeGeneration, ops, done, () -> {
            notify(l -> l.statusChanged(t, from));
            if (to.isTerminal()) {
                notify(l -> l.taskFinished(t));
            }
        });
        u.guard = guard;
        writer.submit(u);
        log.debug("task {}: {} -> {}", s.id, from.wireName(), to.wireName());
        return done;
    }

    CompletableFuture<Void> finishLocked(TaskState s, TaskStatus to, String key, Object value) {
        String error = to == TaskStatus.FAILED ? String.valueOf(value) : null;
        s.inbox.clear();
        retries.clearLocked(s);
        return transitionLocked(s, to, error, key, value);
    }

    // ------------------------------------------------------------------ cancel, timeout, delete

    @Override
    public boolean cancel(String taskId) {
        return Fenced.retry(() -> cancelOnce(taskId));
    }

    private boolean cancelOnce(String taskId) {
        admission.checkId(taskId, "task_id");
        checkOpen();
        Object target = ownership.resolve(taskId);
        if (target == null) {
            throw new NoSuchTaskException(taskId);
        }
        if (target instanceof TaskRecord) { // finished, or another host holds it
            TaskRecord r = (TaskRecord) target;
            return !r.task().status().isTerminal() && remote.cancel(r);
        }
        TaskState s = (TaskState) target;
        CompletableFuture<Void> done = null;
        TurnRun turn = null;
        CompletableFuture<Void> wait;
        synchronized (s) {
            // read once: the writer completes a finish without this lock, so a second read could find it
            // done after the first did not, and cancel a task that just completed (found by Fray)
            wait = finishing.inFlightLocked(s); // a turn's finish in flight: cancel what it leaves
            if (s.task().status().isTerminal() && wait == null || s.dead) {
                return false;
            }
            if (s.deleted) {
                throw new NoSuchTaskException(taskId);
            }
            if (wait == null) {
                turn = s.turn;
                s.turn = null;
                s.queued = false;
                if (turn != null) {
                    turn.cancelled = true;
                    turn.closed = true;
                }
                done = finishLocked(s, TaskStatus.CANCELLED, null, null);
            }
        }
        finishing.awaitIfFinishing(taskId, wait);
        if (turn != null) {
            turns.interrupt(turn);
            turns.scheduleSlotRelease(turn);
        }
        writer.await(done);
        log.info("task {} cancelled", taskId);
        return true;
    }

    @Override
    public boolean delete(String taskId) {
        return Fenced.retry(() -> deleteOnce(taskId));
    }

    private boolean deleteOnce(String taskId) {
        admission.checkId(taskId, "task_id");
        checkOpen();
        // open subscriptions end with TaskDeletedException, not with the CANCELLED event written below
        if (subscriptions.has(taskId) && store.task(taskId).isPresent()) {
            TaskDeletedException gone = new TaskDeletedException(taskId);
            subscriptions.forEach(taskId, sub -> sub.fail(gone));
        }
        Object target = ownership.resolve(taskId);
        if (target instanceof TaskRecord && !((TaskRecord) target).task().status().isTerminal()) {
            return remote.delete((TaskRecord) target); // another host holds it
        }
        TaskState s = target instanceof TaskState ? (TaskState) target : null;
        if (s != null) {
            try {
                cancel(taskId);
            } catch (NoSuchTaskException e) {
                return false;
            }
            writer.flush(); // a cancel or message another caller queued before ours is recorded, not dropped (defect 10)
            synchronized (s) {
                s.deleted = true;
                s.writeGeneration++; // drop anything a runaway turn still queues
            }
            writer.flush();
        }
        boolean existed = store.delete(taskId);
        if (s != null) {
            tasks.forget(s);
        }
        TaskDeletedException gone = new TaskDeletedException(taskId);
        subscriptions.forEach(taskId, sub -> sub.fail(gone));
        if (existed) {
            log.info("task {} deleted", taskId);
        }
        return existed;
    }

    // ------------------------------------------------------------------ messages

    @Override
    public SendResult sendMessage(String taskId, TaskMessage message) {
        return sendMessage(taskId, message, SendOptions.DEFAULTS);
    }

    @Override
    public SendResult sendMessage(String taskId, TaskMessage message, SendOptions options) {
        return Fenced.retry(() -> messages.send(taskId, message, options));
    }

    // ------------------------------------------------------------------ queries (see Queries)

    @Override
    public Optional<Task> get(String taskId) {
        return queries.get(taskId);
    }

    @Override
    public TaskPage list(TaskQuery query) {
        return queries.list(query);
    }

    @Override
    public int runningCount() {
        return queries.runningCount();
    }

    @Override
    public Map<TaskStatus, Long> countByStatus() {
        return queries.countByStatus();
    }

    // ------------------------------------------------------------------ events

    @Override
    public Flow.Publisher<TaskEvent> events(String taskId, long afterSeq) {
        admission.checkId(taskId, "task_id");
        if (afterSeq < 0) {
            throw new InvalidRequestException("after_seq", "after_seq must not be negative: " + afterSeq);
        }
        return subscriber -> {
            if (subscriber == null) {
                throw new NullPointerException("§1.9: subscriber must not be null");
            }
            EventSubscription sub = new EventSubscription(this, taskId, afterSeq, subscriber);
            subscriptions.add(taskId, sub);
            if (closed) {
                sub.fail(new ManagerClosedException());
            } else {
                sub.schedule();
            }
        };
    }

    void signal(String taskId) {
        subscriptions.forEach(taskId, EventSubscription::signal);
    }

    void unregister(EventSubscription sub) {
        subscriptions.remove(sub.taskId, sub);
    }

    void delivered() {
        eventsDelivered.incrementAndGet();
    }

    void bufferPeak(int size) {
        if (size > peakBuffer.get()) {
            peakBuffer.accumulateAndGet(size, Math::max);
        }
    }

    @Override
    public ManagerStats stats() {
        long tail = 0;
        for (TaskState s : active.values()) {
            tail += s.tail.size();
        }
        int queued;
        int running;
        queued = turns.slots.queued();
        running = turns.slots.running();
        return new ManagerStats(active.size(), running, queued, subscriptions.size(), tail, peakTail.get(),
                peakBuffer.get(), eventsAppended.get(), eventsDelivered.get(), writer.batches, eventsDropped.get());
    }

    // ------------------------------------------------------------------ listeners

    void notify(java.util.function.Consumer<TaskListener> call) {
        for (TaskListener l : listeners) {
            try {
                call.accept(l);
            } catch (Throwable e) { // an Error too: it must not reach the writer and fail writes that committed
                log.warn("task listener {} threw; ignored", l.getClass().getName(), e);
            }
        }
    }

    // ------------------------------------------------------------------ close

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        new Shutdown(this).run();
        log.info("task manager closed");
    }
}
