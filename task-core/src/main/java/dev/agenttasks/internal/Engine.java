package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.ManagerStats;
import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskException;
import dev.agenttasks.TaskLimits;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskPage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.UnknownAgentException;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The engine behind {@link TaskManager}: validation, the status machine, turn scheduling with a
 * concurrency limit, cancellation and timeouts, the group-commit writer, and event subscriptions.
 * Not part of the public API; build it with {@link TaskManager#builder()}.
 */
public final class Engine implements TaskManager {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    private static final String USER_MESSAGE = "user_message";

    /** Validated builder settings. */
    public record Config(TaskStore store, AgentRunner runner, int maxConcurrentTasks, Duration defaultTimeout,
                         Duration cancelGrace, Duration shutdownTimeout, Duration commitDelay,
                         ExecutorService executor, int liveTailSize, int pageSize, int maxBatchSize,
                         int writeQueueCapacity, int deliveryThreads, RecoveryPolicy recoveryPolicy,
                         List<TaskListener> listeners, TaskLimits limits, Clock clock, String hostId,
                         Duration transientErrorBudget) {
    }

    private final Config config;
    private final TaskStore store;
    private final AgentRunner runner;
    private final TaskLimits limits;
    private final Clock clock;
    private final String hostId;
    private final List<TaskListener> listeners;
    private final ExecutorService turnExecutor;
    private final boolean ownsTurnExecutor;
    final ExecutorService deliveryExecutor;
    final ScheduledThreadPoolExecutor timer;
    final Writer writer;

    private final ConcurrentHashMap<String, TaskState> active = new ConcurrentHashMap<>();
    private final SubscriptionRegistry<EventSubscription> subscriptions = new SubscriptionRegistry<>();
    private final Object loadLock = new Object();

    // scheduling (never held while taking a task's lock)
    private final TurnSlots<TaskState> slots;
    private final Set<TurnRun> runningTurns = ConcurrentHashMap.newKeySet();

    private volatile boolean closed;
    /** After close: when waits for the writer give up (System.nanoTime). */
    private volatile long closeDeadline;
    /** Race-window hooks for tests; {@link EngineHooks#NONE} in production. */
    volatile EngineHooks hooks = EngineHooks.NONE;
    private final AtomicLong eventsAppended = new AtomicLong();
    private final AtomicLong eventsDelivered = new AtomicLong();
    private final AtomicLong eventsDropped = new AtomicLong();
    private final AtomicInteger peakTail = new AtomicInteger();
    private final AtomicInteger peakBuffer = new AtomicInteger();

    /** @param config settings from the builder */
    public Engine(Config config) {
        this.config = config;
        this.store = config.store();
        this.runner = config.runner();
        this.limits = config.limits();
        this.clock = config.clock();
        this.hostId = config.hostId() != null ? config.hostId() : "host-" + UUID.randomUUID();
        this.listeners = config.listeners();
        this.slots = new LocalTurnSlots<>(config.maxConcurrentTasks());
        if (config.executor() != null) {
            this.turnExecutor = config.executor();
            this.ownsTurnExecutor = false;
        } else {
            this.turnExecutor = EngineThreads.defaultTurnExecutor(config.maxConcurrentTasks());
            this.ownsTurnExecutor = true;
        }
        this.deliveryExecutor = Executors.newFixedThreadPool(config.deliveryThreads(), EngineThreads.named("agent-tasks-delivery-"));
        this.timer = new ScheduledThreadPoolExecutor(1, EngineThreads.named("agent-tasks-timer-"));
        this.timer.setRemoveOnCancelPolicy(true);
        this.writer = new Writer(this, store, config.writeQueueCapacity(), config.maxBatchSize(),
                config.commitDelay().toNanos(), config.transientErrorBudget().toNanos());
        List<TaskState> recovered = new StartupRecovery(store, config.recoveryPolicy(), clock, hostId, this::load,
                this::notify).recover();
        writer.start();
        for (TaskState s : recovered) {
            synchronized (s) {
                s.queued = true;
            }
            requestSlot(s);
        }
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

    private TaskState load(TaskRecord r) {
        synchronized (loadLock) {
            TaskState s = active.get(r.id());
            if (s == null) {
                s = new TaskState(r, config.liveTailSize());
                s.inbox.addAll(store.pendingMessages(r.id()));
                s.turns = lastTurn(r);
                if (s.turns == 0 && r.task().status() == TaskStatus.PENDING) {
                    s.firstMessage = firstMessageOf(r);
                }
                active.put(r.id(), s);
            }
            return s;
        }
    }

    /**
     * The number of the last turn a task started, so turn numbers go on after a restart. The engine
     * records it in every status event after the first turn; a waiting task's last event is one.
     */
    private int lastTurn(TaskRecord r) {
        if (r.lastSeq() == 0) {
            return 0;
        }
        List<TaskEvent> last = store.events(r.id(), r.lastSeq() - 1, 1);
        if (!last.isEmpty() && last.get(0).isStatus() && last.get(0).data().get("turn") instanceof Long) {
            return ((Long) last.get(0).data().get("turn")).intValue();
        }
        long max = 0;
        long after = 0;
        while (true) { // rare: a running task resumed after a crash; scan its log once
            List<TaskEvent> page = store.events(r.id(), after, 1024);
            if (page.isEmpty()) {
                return (int) max;
            }
            for (TaskEvent e : page) {
                if (e.isStatus() && e.data().get("turn") instanceof Long
                        || USER_MESSAGE.equals(e.type()) && e.data().get("turn") instanceof Long && max > 0) {
                    max = Math.max(max, (Long) e.data().get("turn"));
                }
                after = e.seq();
            }
        }
    }

    /** @return the in-memory state of an unfinished task (loading it if needed), or null if finished or unknown */
    TaskState liveState(String taskId) {
        TaskState s = active.get(taskId);
        if (s != null) {
            return s;
        }
        synchronized (loadLock) { // a task is forgotten under this lock too: the read below is never stale (defect 9)
            s = active.get(taskId);
            if (s != null) {
                return s;
            }
            Optional<TaskRecord> r = store.task(taskId);
            hooks.afterStoreRead(taskId);
            if (r.isEmpty() || r.get().task().status().isTerminal()) {
                return null;
            }
            return load(r.get());
        }
    }

    /** Drops a finished (or given-up) task from memory. */
    void forget(TaskState s) {
        synchronized (loadLock) {
            active.remove(s.id, s);
        }
    }

    Optional<TaskRecord> storedTask(String taskId) {
        return store.task(taskId);
    }

    /** A page sized to the subscriber's outstanding demand: at least 64 events, at most the page size. */
    List<TaskEvent> readPage(String taskId, long afterSeq, long demand) {
        int max = config.pageSize();
        int size = (int) Math.min(max, Math.max(Math.min(64, max), demand));
        return store.events(taskId, afterSeq, size);
    }

    // ------------------------------------------------------------------ validation

    private String checkId(String id, String field) {
        if (id == null || id.isBlank()) {
            throw new InvalidRequestException(field, field + " must not be blank");
        }
        if (id.length() > limits.maxIdLength()) {
            throw new InvalidRequestException(field, field + " is longer than " + limits.maxIdLength() + " characters");
        }
        return id;
    }

    private TaskMessage checkMessage(TaskMessage m) {
        if (m == null) {
            throw new InvalidRequestException("message", "message must not be null");
        }
        if (m.text() != null && m.content() != null) {
            throw new InvalidRequestException("message", "give either text or content, not both");
        }
        if (m.text() != null) {
            if (m.text().isBlank()) {
                throw new InvalidRequestException("message", "message must not be empty");
            }
            long size = (long) m.text().length() * 3;
            if (size > limits.maxMessageBytes()) {
                int bytes = m.text().getBytes(StandardCharsets.UTF_8).length;
                if (bytes > limits.maxMessageBytes()) {
                    throw new dev.agenttasks.PayloadTooLargeException("message", bytes, limits.maxMessageBytes());
                }
            }
            return m;
        }
        if (m.content() == null || m.content().isEmpty()) {
            throw new InvalidRequestException("content", "message must have text or at least one content block");
        }
        List<Map<String, Object>> blocks = Json.copyObjectList(m.content(), "content", limits.maxMessageBytes());
        for (Map<String, Object> b : blocks) {
            if (!(b.get("type") instanceof String) || ((String) b.get("type")).isBlank()) {
                throw new InvalidRequestException("content", "every content block needs a string \"type\"");
            }
        }
        return new TaskMessage(null, blocks);
    }

    private Map<String, String> checkMetadata(Map<String, String> md) {
        long size = 0;
        LinkedHashMap<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : md.entrySet()) {
            if (e.getKey() == null || e.getKey().isBlank()) {
                throw new InvalidRequestException("metadata", "metadata keys must not be blank");
            }
            if (e.getValue() == null) {
                throw new InvalidRequestException("metadata", "metadata value of " + e.getKey() + " must not be null");
            }
            size += e.getKey().getBytes(StandardCharsets.UTF_8).length + e.getValue().getBytes(StandardCharsets.UTF_8).length;
            if (size > limits.maxMetadataBytes()) {
                throw new dev.agenttasks.PayloadTooLargeException("metadata", size, limits.maxMetadataBytes());
            }
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }

    private void checkOpen() {
        if (closed) {
            throw new ManagerClosedException();
        }
    }

    // ------------------------------------------------------------------ create

    @Override
    public Task create(TaskRequest request) {
        if (request == null) {
            throw new InvalidRequestException("request", "request must not be null");
        }
        String agentId = checkId(request.agentId(), "agent_id");
        TaskMessage message = request.message() == null ? null : checkMessage(request.message());
        Map<String, Object> options = Json.copyObject(request.options(), "options", limits.maxOptionsBytes());
        Map<String, String> metadata = checkMetadata(request.metadata());
        String workDir = request.workDir();
        if (workDir != null && (workDir.isBlank() || workDir.length() > 4096 || workDir.indexOf('\0') >= 0)) {
            throw new InvalidRequestException("work_dir", "work_dir must be a non-blank path of at most 4096 characters");
        }
        String title = request.title();
        if (title != null) {
            if (title.isBlank()) {
                throw new InvalidRequestException("title", "title must not be blank");
            }
            if (title.length() > limits.maxTitleLength()) {
                throw new dev.agenttasks.PayloadTooLargeException("title", title.length(), limits.maxTitleLength());
            }
        }
        Duration timeout = request.timeout();
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new InvalidRequestException("timeout", "timeout must be positive");
        }
        checkOpen();
        AgentDescriptor agent;
        try {
            agent = runner.describe(agentId).orElseThrow(() -> new UnknownAgentException(agentId));
        } catch (TaskException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new TaskException("runner failed to describe agent " + agentId, e);
        }
        if (title == null) {
            title = Titles.derive(message, agent.name());
        }
        Instant now = clock.instant();
        String id = Ids.task();
        Task task = new Task(id, agentId, null, TaskStatus.PENDING, title, agent.model(), now, null, null, null,
                workDir, metadata);
        TaskRecord record = new TaskRecord(task, options, timeout == null ? 0 : timeout.toMillis(), null, null, 0);
        TaskState s = new TaskState(record, config.liveTailSize());
        CompletableFuture<Void> done = new CompletableFuture<>();
        synchronized (s) {
            List<StoreOp> ops = new ArrayList<>(3);
            ops.addAll(Lifecycle.created(record, s.nextSeq++));
            if (message != null) { // the log holds the first message: no pending-message row to write and remove
                ops.add(new StoreOp.AppendEvent(new TaskEvent(id, s.nextSeq++, USER_MESSAGE,
                        userMessageData(1, message), now)));
            }
            s.firstMessage = message;
            s.queued = true;
            active.put(id, s);
            writer.submit(new Writer.Unit(s, s.writeGeneration, ops, done, () -> notify(l -> l.taskCreated(task))));
        }
        await(done);
        log.debug("task {} created for agent {}", id, agentId);
        requestSlot(s);
        return task;
    }

    /**
     * Waits for a unit of writes. The wait is bounded once the manager is closing: the writer fails
     * what it did not take, and a store call still hanging past the shutdown bound ends the wait with
     * {@link ManagerClosedException} (defect 5).
     */
    private void await(CompletableFuture<Void> f) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    f.get(50, TimeUnit.MILLISECONDS);
                    return;
                } catch (java.util.concurrent.TimeoutException e) {
                    if (closed && System.nanoTime() - closeDeadline > 0) {
                        throw new ManagerClosedException();
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (java.util.concurrent.ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof TaskException) {
                        throw (TaskException) c;
                    }
                    throw new TaskStoreException("store write failed", c);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }


    // ------------------------------------------------------------------ scheduling

    /** Queue the task for a slot (its {@code queued} flag is already set). */
    private void requestSlot(TaskState s) {
        if (slots.acquireOrQueue(s) && !startTurn(s)) {
            releaseSlot();
        }
    }

    /** Gives up a slot this thread holds: it passes to the next queued task that still needs one. */
    private void releaseSlot() {
        TaskState next;
        while ((next = slots.releaseOrPass()) != null) {
            if (startTurn(next)) {
                return; // the slot passed to it
            }
        }
    }

    private void releaseSlot(TurnRun run) {
        if (run.slotReleased.compareAndSet(false, true)) {
            turnGone(run);
            releaseSlot();
        }
    }

    private void turnGone(TurnRun run) {
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
    private boolean startTurn(TaskState s) {
        TurnRun run;
        Turn turn;
        synchronized (s) {
            if (!s.queued || s.turn != null || s.dead || s.deleted || s.task().status().isTerminal() || closed) {
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
    private TurnRun beginTurnLocked(TaskState s) {
        boolean resumed = s.resumeNext;
        s.resumeNext = false;
        boolean neverStarted = s.turns == 0 && s.task().startedAt() == null;
        PendingMessage pm = null;
        TaskMessage message = null;
        if (resumed) {
            // a resumed turn continues the interrupted one; queued messages run as the turns after it
        } else if (neverStarted && s.firstMessage != null) {
            message = s.firstMessage; // recorded in the log at creation
        } else {
            pm = s.inbox.poll();
            if (pm == null && !neverStarted) {
                return null; // nothing to run
            }
            message = pm == null ? null : pm.message();
        }
        int number = ++s.turns;
        TurnRun run = new TurnRun(this, s, number);
        run.message = message;
        s.firstMessage = null;
        run.resumed = resumed;
        s.turn = run;
        runningTurns.add(run); // before anything can release its slot
        Instant now = clock.instant();
        List<StoreOp> ops = new ArrayList<>(4);
        TaskStatus from = s.task().status();
        if (from != TaskStatus.RUNNING) {
            ops.addAll(Lifecycle.move(s, TaskStatus.RUNNING, now, hostId, null, null, null));
        }
        if (pm != null) {
            ops.add(new StoreOp.RemoveMessage(s.id, pm.messageId()));
            if (pm.message() != null) {
                ops.add(new StoreOp.AppendEvent(new TaskEvent(s.id, s.nextSeq++, USER_MESSAGE,
                        userMessageData(number, pm.message()), now)));
            }
        }
        Task after = s.task();
        submitLocked(s, ops, null, () -> {
            if (from != TaskStatus.RUNNING) {
                notify(l -> l.statusChanged(after, from));
            }
            notify(l -> l.turnStarted(after, number));
        });
        return run;
    }

    private static Map<String, Object> userMessageData(int turn, TaskMessage m) {
        LinkedHashMap<String, Object> data = new LinkedHashMap<>();
        data.put("turn", (long) turn);
        if (m.text() != null) {
            data.put("text", m.text());
        } else {
            data.put("content", m.content());
        }
        return java.util.Collections.unmodifiableMap(data);
    }

    /** The first message of a task that has not started, from its {@code user_message} event. */
    private TaskMessage firstMessageOf(TaskRecord r) {
        for (TaskEvent e : store.events(r.id(), 0, 4)) {
            if (USER_MESSAGE.equals(e.type()) && Long.valueOf(1).equals(e.data().get("turn"))) {
                Object text = e.data().get("text");
                if (text instanceof String) {
                    return TaskMessage.text((String) text);
                }
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> content = (List<Map<String, Object>>) e.data().get("content");
                return content == null ? null : TaskMessage.content(content);
            }
        }
        return null;
    }

    private Turn turnFor(TaskState s, TurnRun run) {
        return new Turn(s.id, s.task().agentId(), run.number, s.task().sessionId(), run.message,
                s.record.options(), s.task().workDir(), run.resumed);
    }

    private void launch(TurnRun run, Turn turn) {
        TaskState s = run.state;
        long timeoutMs = s.record.timeoutMillis() > 0 ? s.record.timeoutMillis()
                : config.defaultTimeout() == null ? 0 : config.defaultTimeout().toMillis();
        try {
            turnExecutor.execute(() -> execute(run, turn));
        } catch (RejectedExecutionException e) {
            log.error("task {}: executor rejected turn {}", s.id, run.number, e);
            synchronized (s) {
                if (s.turn == run) {
                    s.turn = null;
                    run.closed = true;
                    finishLocked(s, TaskStatus.FAILED, "error", "executor rejected the turn: " + e.getMessage());
                }
            }
            releaseSlot(run);
            return;
        }
        if (timeoutMs > 0) {
            run.timeout = timer.schedule(() -> stopTurn(run, TaskStatus.FAILED,
                    "timeout: turn " + run.number + " ran longer than " + Duration.ofMillis(timeoutMs)),
                    timeoutMs, TimeUnit.MILLISECONDS);
        }
    }

    private void execute(TurnRun run, Turn turn) {
        TaskState s = run.state;
        if (!run.enter()) { // cancelled before its thread started: nothing ran, the slot is free
            releaseSlot(run);
            hooks.turnThreadDone(s);
            return;
        }
        TurnResult result = null;
        Throwable failure = null;
        try {
            result = runner.runTurn(turn, run);
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
        synchronized (s) {
            if (s.turn != run) {
                log.debug("task {}: turn {} ended after it was cancelled or abandoned", s.id, run.number);
            } else {
                run.closed = true;
                s.turn = null;
                if (failure != null) {
                    String msg = describe(failure);
                    log.info("task {}: turn {} failed: {}", s.id, run.number, msg);
                    finishLocked(s, TaskStatus.FAILED, "error", msg);
                } else if (result.kind() == TurnResult.Kind.AWAITING_INPUT) {
                    Map<String, Object> question = safeData(s, result.data(), "question");
                    if (question != null) {
                        transitionLocked(s, TaskStatus.WAITING_FOR_INPUT, null, "question", question);
                        if (!s.inbox.isEmpty()) {
                            nextRun = beginTurnLocked(s);
                        }
                    }
                } else {
                    Map<String, Object> res = safeData(s, result.data(), "result");
                    if (res != null) {
                        if (!s.inbox.isEmpty()) {
                            nextRun = beginTurnLocked(s); // follow-ups sent while it ran are not dropped
                        } else {
                            finishLocked(s, TaskStatus.COMPLETED, "result", res);
                        }
                    }
                }
            }
        }
        if (nextRun != null) {
            // the slot passes to the next turn, which alone releases it from now on, even if a cancel
            // comes before it is launched (defect 2)
            hooks.betweenTurns(s);
            Turn next;
            synchronized (s) {
                next = turnFor(s, nextRun);
            }
            run.slotReleased.set(true);
            turnGone(run);
            launch(nextRun, next);
            hooks.turnThreadDone(s);
            return;
        }
        releaseSlot(run);
        hooks.turnThreadDone(s);
    }

    private Map<String, Object> safeData(TaskState s, Map<String, Object> data, String field) {
        try {
            return Json.copyObject(data, field, limits.maxEventBytes());
        } catch (InvalidRequestException e) {
            finishLocked(s, TaskStatus.FAILED, "error", "runner returned an invalid " + field + ": " + e.getMessage());
            return null;
        }
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getName() : m;
    }

    // ------------------------------------------------------------------ transitions and writes

    /** Caller holds the lock. Queues a unit of ops for the writer. */
    private void submitLocked(TaskState s, List<StoreOp> ops, CompletableFuture<Void> done, Runnable afterCommit) {
        writer.submit(new Writer.Unit(s, s.writeGeneration, ops, done, afterCommit));
    }

    /** Caller holds the lock. Records a status change and its status event in one unit. */
    private CompletableFuture<Void> transitionLocked(TaskState s, TaskStatus to, String error, String key, Object value) {
        return transitionLocked(s, List.of(), to, error, key, value);
    }

    /** As above, with ops written in the same unit before the status change. */
    private CompletableFuture<Void> transitionLocked(TaskState s, List<StoreOp> before, TaskStatus to, String error,
                                                     String key, Object value) {
        TaskStatus from = s.task().status();
        List<StoreOp> change = Lifecycle.move(s, to, clock.instant(), hostId, error, key, value);
        Task t = s.task();
        List<StoreOp> ops = new ArrayList<>(before.size() + 2);
        ops.addAll(before);
        ops.addAll(change);
        CompletableFuture<Void> done = new CompletableFuture<>();
        submitLocked(s, ops, done, () -> {
            notify(l -> l.statusChanged(t, from));
            if (to.isTerminal()) {
                notify(l -> l.taskFinished(t));
            }
        });
        log.debug("task {}: {} -> {}", s.id, from.wireName(), to.wireName());
        return done;
    }

    private CompletableFuture<Void> finishLocked(TaskState s, TaskStatus to, String key, Object value) {
        String error = to == TaskStatus.FAILED ? String.valueOf(value) : null;
        s.inbox.clear();
        return transitionLocked(s, to, error, key, value);
    }

    /** Writer thread: a unit was committed. */
    void applyCommitted(Writer.Unit u) {
        TaskState s = u.state;
        Task updated = null;
        for (StoreOp op : u.ops) {
            if (op instanceof StoreOp.AppendEvent) {
                TaskEvent e = ((StoreOp.AppendEvent) op).event();
                s.tail.add(e);
                s.committedSeq = e.seq();
                eventsAppended.incrementAndGet();
                int size = s.tail.size();
                if (size > peakTail.get()) {
                    peakTail.accumulateAndGet(size, Math::max);
                }
                if (!listeners.isEmpty()) {
                    notify(l -> l.eventAppended(e));
                }
            } else if (op instanceof StoreOp.UpdateTask) {
                updated = ((StoreOp.UpdateTask) op).record().task();
            } else if (op instanceof StoreOp.InsertTask) {
                updated = ((StoreOp.InsertTask) op).record().task();
            }
            hooks.afterApply(s, op);
        }
        if (updated != null) {
            // after the events: a subscriber that sees the finished task also sees its last seq (defect 1)
            s.committedTask = updated;
        }
        Task committed = s.committedTask;
        if (committed.status().isTerminal()) {
            forget(s);
        } else if (committed.status() == TaskStatus.WAITING_FOR_INPUT) {
            s.tail.clear(); // an idle task keeps no events in memory; late readers page from the store
        }
        if (u.afterCommit != null) {
            u.afterCommit.run();
        }
    }

    /** Writer thread: a unit (and everything of the task queued before it) could not be written. */
    void writeFailed(TaskState s, Throwable error, List<Writer.Unit> units) {
        for (Writer.Unit u : units) {
            if (u.finalStatus) {
                retryFinalStatus(u, error);
                return;
            }
        }
        log.error("task {}: store write failed: {}", s.id, error.toString(), error);
        notify(l -> l.storeFailed(s.id, error));
        TaskStoreException cause = error instanceof TaskStoreException ? (TaskStoreException) error
                : new TaskStoreException("store write failed", error);
        for (Writer.Unit u : units) {
            u.fail(cause);
        }
        TurnRun turn;
        Writer.Unit failure = null;
        synchronized (s) {
            s.writeGeneration++;
            turn = s.turn;
            s.turn = null;
            if (turn != null) {
                turn.cancelled = true;
                turn.closed = true;
            }
            s.queued = false;
            s.inbox.clear();
            s.nextSeq = s.committedSeq + 1;
            Task committed = s.committedTask;
            s.record = s.record.withTask(committed);
            if (committed.status().isTerminal() || s.committedSeq == 0) {
                s.dead = true; // never inserted, or already finished
            } else {
                String msg = "store failure: " + describe(error);
                List<StoreOp> ops = Lifecycle.move(s, TaskStatus.FAILED, clock.instant(), null, msg, "error", msg);
                Task t = s.task();
                failure = new Writer.Unit(s, s.writeGeneration, ops, null, () -> notify(l -> l.taskFinished(t)));
                failure.finalStatus = true;
            }
        }
        if (turn != null) {
            interrupt(turn);
            scheduleSlotRelease(turn);
        }
        if (failure != null) {
            // queued like any write and retried until recorded: the task never stays RUNNING in the store
            // while the engine has given up on it (defect 8); subscribers complete with that status
            try {
                writer.submit(failure);
                return;
            } catch (ManagerClosedException e) {
                log.warn("task {}: closing before its failure was recorded; the next start recovers it", s.id);
            }
        }
        forget(s);
        subscriptions.forEach(s.id, sub -> sub.fail(cause));
    }

    /** Writer thread: the final status of a task could not be written; try again after a backoff. */
    private void retryFinalStatus(Writer.Unit u, Throwable error) {
        TaskState s = u.state;
        int attempt = ++u.attempts;
        long delay = Math.min(5000, 50L << Math.min(6, attempt));
        log.error("task {}: could not record its failure (attempt {}); retrying in {} ms: {}", s.id, attempt, delay,
                error.toString());
        if (closed) {
            log.warn("task {}: closing before its failure was recorded; the next start recovers it", s.id);
            forget(s);
            subscriptions.forEach(s.id, sub -> sub.fail(new ManagerClosedException()));
            return;
        }
        try {
            timer.schedule(() -> {
                try {
                    writer.submit(u);
                } catch (ManagerClosedException e) {
                    log.warn("task {}: closing before its failure was recorded; the next start recovers it", s.id);
                }
            }, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            log.warn("task {}: closing before its failure was recorded; the next start recovers it", s.id);
        }
    }

    // ------------------------------------------------------------------ runner callbacks

    void emit(TurnRun run, String type, Map<String, ?> data) {
        if (type == null || type.isBlank()) {
            throw new InvalidRequestException("type", "event type must not be blank");
        }
        if (type.length() > limits.maxIdLength()) {
            throw new InvalidRequestException("type", "event type is longer than " + limits.maxIdLength());
        }
        if (TaskEvent.STATUS.equals(type)) {
            throw new InvalidRequestException("type", "event type \"status\" is reserved for the engine");
        }
        Map<String, Object> copy = Json.copyEncoded(data, "data", limits.maxEventBytes());
        TaskState s = run.state;
        if (run.closed) {
            dropped(run, type);
            return;
        }
        try {
            writer.acquire();
        } catch (TaskStoreException e) {
            if (run.closed) { // cancelled while waiting for room: the event is dropped like any late one
                dropped(run, type);
                return;
            }
            throw e;
        }
        boolean submitted = false;
        try {
            synchronized (s) {
                if (run.closed || s.turn != run) {
                    dropped(run, type);
                    return;
                }
                TaskEvent e = new TaskEvent(s.id, s.nextSeq++, type, copy, clock.instant());
                Writer.Unit u = new Writer.Unit(s, s.writeGeneration, List.of(new StoreOp.AppendEvent(e)), null, null);
                u.permit = true;
                writer.submit(u);
                submitted = true;
            }
        } finally {
            if (!submitted) {
                writer.release();
            }
        }
    }

    private void dropped(TurnRun run, String type) {
        long n = eventsDropped.incrementAndGet();
        if (n == 1 || n % 1000 == 0) {
            log.warn("task {}: dropped event '{}' emitted after turn {} ended or was cancelled ({} dropped so far)",
                    run.state.id, type, run.number, n);
        } else {
            log.debug("task {}: dropped late event '{}' of turn {}", run.state.id, type, run.number);
        }
    }

    void reportSession(TurnRun run, String sessionId) {
        if (sessionId == null || sessionId.isBlank()) {
            throw new InvalidRequestException("session_id", "session id must not be blank");
        }
        TaskState s = run.state;
        synchronized (s) {
            if (run.closed || s.turn != run) {
                return;
            }
            if (sessionId.equals(s.task().sessionId())) {
                return;
            }
            submitLocked(s, List.of(Lifecycle.sessionChanged(s, sessionId)), null, null);
        }
    }

    // ------------------------------------------------------------------ cancel, timeout, delete

    @Override
    public boolean cancel(String taskId) {
        checkId(taskId, "task_id");
        checkOpen();
        TaskState s = liveState(taskId);
        if (s == null) {
            if (store.task(taskId).isPresent()) {
                return false;
            }
            throw new NoSuchTaskException(taskId);
        }
        CompletableFuture<Void> done;
        TurnRun turn;
        synchronized (s) {
            if (s.task().status().isTerminal() || s.dead) {
                return false;
            }
            if (s.deleted) {
                throw new NoSuchTaskException(taskId);
            }
            turn = s.turn;
            s.turn = null;
            s.queued = false;
            if (turn != null) {
                turn.cancelled = true;
                turn.closed = true;
            }
            done = finishLocked(s, TaskStatus.CANCELLED, null, null);
        }
        if (turn != null) {
            interrupt(turn);
            scheduleSlotRelease(turn);
        }
        await(done);
        log.info("task {} cancelled", taskId);
        return true;
    }

    private void stopTurn(TurnRun run, TaskStatus to, String reason) {
        TaskState s = run.state;
        synchronized (s) {
            if (s.turn != run) {
                return;
            }
            s.turn = null;
            run.cancelled = true;
            run.closed = true;
            log.info("task {}: {}", s.id, reason);
            finishLocked(s, to, "error", reason);
        }
        interrupt(run);
        scheduleSlotRelease(run);
    }

    private static void interrupt(TurnRun run) {
        if (run.timeout != null) {
            run.timeout.cancel(false);
        }
        run.interrupt();
    }

    /**
     * A cancelled turn keeps its slot until its thread really returns, or the grace time passes
     * (defect 3: a cancelled future reports done while the thread still runs).
     */
    private void scheduleSlotRelease(TurnRun run) {
        long ms = config.cancelGrace().toMillis();
        if (run.hasReturned()) {
            releaseSlot(run);
            return;
        }
        try {
            timer.schedule(() -> {
                if (!run.slotReleased.get()) {
                    log.warn("task {}: turn {} ignored cancellation for {} ms; its slot is released anyway",
                            run.state.id, run.number, ms);
                    releaseSlot(run);
                }
            }, ms, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            releaseSlot(run);
        }
    }

    @Override
    public boolean delete(String taskId) {
        checkId(taskId, "task_id");
        checkOpen();
        // open subscriptions end with TaskDeletedException, not with the CANCELLED event written below
        if (subscriptions.has(taskId) && store.task(taskId).isPresent()) {
            TaskDeletedException gone = new TaskDeletedException(taskId);
            subscriptions.forEach(taskId, sub -> sub.fail(gone));
        }
        TaskState s = liveState(taskId);
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
            forget(s);
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
        checkId(taskId, "task_id");
        TaskMessage m = checkMessage(message);
        checkOpen();
        TaskState s = liveState(taskId);
        if (s == null) {
            Optional<TaskRecord> r = store.task(taskId);
            if (r.isEmpty()) {
                throw new NoSuchTaskException(taskId);
            }
            throw new TaskNotAcceptingMessagesException(taskId, r.get().task().status());
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        boolean needSlot;
        SendResult result;
        PendingMessage pm;
        synchronized (s) {
            TaskStatus status = s.task().status();
            if (s.deleted) {
                throw new NoSuchTaskException(taskId);
            }
            if (status.isTerminal() || s.dead) {
                throw new TaskNotAcceptingMessagesException(taskId, status);
            }
            pm = new PendingMessage(taskId, Ids.message(), m, clock.instant());
            needSlot = status == TaskStatus.WAITING_FOR_INPUT && s.turn == null && !s.queued;
            if (needSlot) {
                // the message and PENDING in one unit: a stored, unconsumed message always leads to a turn,
                // after a restart too, and the status says the task waits for a slot (defect 6)
                s.queued = true;
                done = transitionLocked(s, List.of(new StoreOp.AddMessage(pm)), TaskStatus.PENDING, null, null, null);
            } else {
                submitLocked(s, List.of(new StoreOp.AddMessage(pm)), done, null);
            }
            s.inbox.add(pm);
            result = status == TaskStatus.WAITING_FOR_INPUT ? SendResult.STARTED_TURN : SendResult.QUEUED;
        }
        try {
            await(done);
        } catch (TaskException e) {
            synchronized (s) {
                s.inbox.remove(pm);
                s.queued = false;
            }
            throw e;
        }
        if (needSlot) {
            requestSlot(s);
        }
        log.debug("task {}: message {} {}", taskId, pm.messageId(), result);
        return result;
    }

    // ------------------------------------------------------------------ queries

    @Override
    public Optional<Task> get(String taskId) {
        if (taskId == null || taskId.isBlank()) {
            throw new InvalidRequestException("task_id", "task_id must not be blank");
        }
        checkOpen();
        TaskState s = active.get(taskId);
        if (s != null && !s.deleted) {
            return Optional.of(s.committedTask);
        }
        return store.task(taskId).map(TaskRecord::task);
    }

    @Override
    public TaskPage list(TaskQuery query) {
        if (query == null) {
            throw new InvalidRequestException("query", "query must not be null");
        }
        TaskCursor after = query.cursor() == null ? null : Cursors.decode(query.cursor());
        checkOpen();
        List<TaskRecord> rows = store.list(query, after, query.limit() + 1);
        boolean more = rows.size() > query.limit();
        List<Task> tasks = new ArrayList<>(Math.min(rows.size(), query.limit()));
        for (int i = 0; i < rows.size() && i < query.limit(); i++) {
            tasks.add(rows.get(i).task());
        }
        String next = more ? Cursors.encode(tasks.get(tasks.size() - 1)) : null;
        return new TaskPage(tasks, next);
    }

    @Override
    public int runningCount() {
        checkOpen();
        Map<TaskStatus, Long> c = store.countByStatus();
        return (int) (c.getOrDefault(TaskStatus.RUNNING, 0L) + c.getOrDefault(TaskStatus.WAITING_FOR_INPUT, 0L));
    }

    @Override
    public Map<TaskStatus, Long> countByStatus() {
        checkOpen();
        Map<TaskStatus, Long> out = new EnumMap<>(TaskStatus.class);
        for (TaskStatus st : TaskStatus.values()) {
            out.put(st, 0L);
        }
        out.putAll(store.countByStatus());
        return java.util.Collections.unmodifiableMap(out);
    }

    // ------------------------------------------------------------------ events

    @Override
    public Flow.Publisher<TaskEvent> events(String taskId, long afterSeq) {
        checkId(taskId, "task_id");
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
        queued = slots.queued();
        running = slots.running();
        return new ManagerStats(active.size(), running, queued, subscriptions.size(), tail, peakTail.get(),
                peakBuffer.get(), eventsAppended.get(), eventsDelivered.get(), writer.batches, eventsDropped.get());
    }

    // ------------------------------------------------------------------ listeners

    private void notify(java.util.function.Consumer<TaskListener> call) {
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
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
        closeDeadline = deadline + TimeUnit.MILLISECONDS.toNanos(Math.max(1000, config.shutdownTimeout().toMillis()) + 1000);
        slots.close(); // queued tasks stay PENDING in the store: the next start queues them again
        synchronized (runningTurns) {
            long left;
            while (!runningTurns.isEmpty() && (left = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(runningTurns, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        for (TurnRun run : new ArrayList<>(runningTurns)) {
            TaskState s = run.state;
            synchronized (s) {
                if (s.turn == run) {
                    s.turn = null; // abandoned: it stays RUNNING in the store for the next start to recover
                    run.cancelled = true;
                    run.closed = true;
                    log.warn("task {}: turn {} still running at shutdown; interrupted, left for recovery", s.id, run.number);
                }
            }
            interrupt(run);
        }
        writer.stop(Math.max(1000, config.shutdownTimeout().toMillis()));
        ManagerClosedException closedEx = new ManagerClosedException();
        subscriptions.all().forEach(sub -> sub.fail(closedEx));
        timer.shutdownNow();
        deliveryExecutor.shutdown();
        try {
            deliveryExecutor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (ownsTurnExecutor) {
            turnExecutor.shutdownNow();
        }
        try {
            store.close();
        } catch (RuntimeException e) {
            log.warn("closing the store failed", e);
        }
        log.info("task manager closed");
    }
}
