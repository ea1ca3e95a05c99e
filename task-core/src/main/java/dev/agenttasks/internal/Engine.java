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
import java.util.ArrayDeque;
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
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
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
    private static final Set<TaskStatus> UNFINISHED = EnumSet.of(TaskStatus.PENDING, TaskStatus.RUNNING);
    private static final String USER_MESSAGE = "user_message";

    /** Validated builder settings. */
    public record Config(TaskStore store, AgentRunner runner, int maxConcurrentTasks, Duration defaultTimeout,
                         Duration cancelGrace, Duration shutdownTimeout, Duration commitDelay,
                         ExecutorService executor, int liveTailSize, int pageSize, int maxBatchSize,
                         int writeQueueCapacity, int deliveryThreads, RecoveryPolicy recoveryPolicy,
                         List<TaskListener> listeners, TaskLimits limits, Clock clock, String hostId) {
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
    private final ExecutorService deliveryExecutor;
    private final ScheduledThreadPoolExecutor timer;
    private final Writer writer;

    private final ConcurrentHashMap<String, TaskState> active = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Set<EventSubscription>> subscriptions = new ConcurrentHashMap<>();
    private final Object loadLock = new Object();

    // scheduling (never held while taking a task's lock)
    private final Object schedLock = new Object();
    private final ArrayDeque<TaskState> readyQueue = new ArrayDeque<>();
    private int slotsInUse;
    private final Set<TurnRun> runningTurns = ConcurrentHashMap.newKeySet();

    private volatile boolean closed;
    private final AtomicInteger openSubscriptions = new AtomicInteger();
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
        if (config.executor() != null) {
            this.turnExecutor = config.executor();
            this.ownsTurnExecutor = false;
        } else {
            this.turnExecutor = defaultTurnExecutor(config.maxConcurrentTasks());
            this.ownsTurnExecutor = true;
        }
        this.deliveryExecutor = Executors.newFixedThreadPool(config.deliveryThreads(), named("agent-tasks-delivery-"));
        this.timer = new ScheduledThreadPoolExecutor(1, named("agent-tasks-timer-"));
        this.timer.setRemoveOnCancelPolicy(true);
        this.writer = new Writer(this, store, config.writeQueueCapacity(), config.maxBatchSize(),
                config.commitDelay().toNanos());
        recover();
        writer.start();
        startRecoveredTurns();
    }

    // ------------------------------------------------------------------ executors

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** A virtual thread per turn on Java 21+, else a bounded pool of platform threads. */
    static ExecutorService defaultTurnExecutor(int maxConcurrent) {
        try {
            Object ofVirtual = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> builderClass = Class.forName("java.lang.Thread$Builder");
            Object named = builderClass.getMethod("name", String.class, long.class).invoke(ofVirtual, "agent-task-", 1L);
            ThreadFactory factory = (ThreadFactory) builderClass.getMethod("factory").invoke(named);
            return (ExecutorService) Executors.class.getMethod("newThreadPerTaskExecutor", ThreadFactory.class)
                    .invoke(null, factory);
        } catch (ReflectiveOperationException | RuntimeException e) {
            int threads = Math.min(256, maxConcurrent + 4);
            ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), named("agent-task-"));
            pool.allowCoreThreadTimeOut(true);
            return pool;
        }
    }

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

    // ------------------------------------------------------------------ recovery

    private final List<TaskState> recoveredToStart = new ArrayList<>();

    private void recover() {
        List<TaskRecord> stale = store.findByStatus(UNFINISHED);
        Instant now = clock.instant();
        List<StoreOp> ops = new ArrayList<>();
        int failed = 0;
        for (TaskRecord r : stale) {
            if (r.owner() != null && !r.owner().equals(hostId) && r.leaseUntil() != null && r.leaseUntil().isAfter(now)) {
                continue; // another live host holds it
            }
            RecoveryPolicy.Action action;
            try {
                action = config.recoveryPolicy().decide(r.task());
            } catch (RuntimeException e) {
                log.warn("recovery policy threw for task {}; failing it", r.id(), e);
                action = RecoveryPolicy.Action.FAIL;
            }
            RecoveryPolicy.Action decided = action;
            notify(l -> l.taskRecovered(r.task(), decided));
            if (action == RecoveryPolicy.Action.RESUME) {
                TaskState s = load(r);
                s.resumeNext = r.task().status() == TaskStatus.RUNNING;
                recoveredToStart.add(s);
                log.info("task {} recovered: resuming ({})", r.id(), r.task().status().wireName());
                continue;
            }
            Task t = r.task().withStatus(TaskStatus.FAILED, null, now, RecoveryPolicy.INTERRUPTED);
            ops.add(new StoreOp.UpdateTask(r.withTask(t).withOwner(null, null), r.task().status()));
            ops.add(new StoreOp.AppendEvent(new TaskEvent(r.id(), r.lastSeq() + 1, TaskEvent.STATUS,
                    statusData(TaskStatus.FAILED, "error", RecoveryPolicy.INTERRUPTED), now)));
            failed++;
            log.info("task {} recovered: failed ({} when the host stopped)", r.id(), r.task().status().wireName());
            if (ops.size() >= 1000) {
                store.write(ops);
                ops = new ArrayList<>();
            }
        }
        if (!ops.isEmpty()) {
            store.write(ops);
        }
        if (failed > 0 || !recoveredToStart.isEmpty()) {
            log.info("recovery: {} interrupted tasks failed, {} resumed", failed, recoveredToStart.size());
        }
    }

    private void startRecoveredTurns() {
        recoveredToStart.sort((a, b) -> a.task().createdAt().compareTo(b.task().createdAt()));
        for (TaskState s : recoveredToStart) {
            synchronized (s) {
                s.queued = true;
            }
            requestSlot(s);
        }
        recoveredToStart.clear();
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
        Optional<TaskRecord> r = store.task(taskId);
        if (r.isEmpty() || r.get().task().status().isTerminal()) {
            return null;
        }
        return load(r.get());
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
        Text.checkPlain(id, field);
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
            if (Text.isInvisible(m.text())) {
                throw new InvalidRequestException("message", "message must not be empty");
            }
            Text.checkMessage(m.text(), "message");
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
            if ("text".equals(b.get("type")) && b.get("text") instanceof String) {
                Text.checkMessage((String) b.get("text"), "content");
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
            Text.checkPlain(e.getKey(), "metadata");
            Text.checkPlain(e.getValue(), "metadata");
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
        if (workDir != null) {
            Text.checkPlain(workDir, "work_dir");
        }
        String title = request.title();
        if (title != null) {
            if (Text.isInvisible(title)) {
                throw new InvalidRequestException("title", "title must not be blank or made only of invisible characters");
            }
            Text.checkPlain(title, "title");
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
            ops.add(new StoreOp.InsertTask(record));
            ops.add(new StoreOp.AppendEvent(new TaskEvent(id, s.nextSeq++, TaskEvent.STATUS,
                    statusData(TaskStatus.PENDING, null, null), now)));
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

    private static void await(CompletableFuture<Void> f) {
        try {
            f.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof TaskException) {
                throw (TaskException) c;
            }
            throw new TaskStoreException("store write failed", c);
        }
    }

    static Map<String, Object> statusData(TaskStatus status, String key, Object value) {
        return statusData(status, 0, key, value);
    }

    /** {@code {"status": …, "turn": n (if n > 0), key: value (if key is set)}}. */
    static Map<String, Object> statusData(TaskStatus status, int turn, String key, Object value) {
        if (key == null && turn == 0) {
            return Map.of("status", status.wireName());
        }
        LinkedHashMap<String, Object> m = new LinkedHashMap<>();
        m.put("status", status.wireName());
        if (turn > 0) {
            m.put("turn", (long) turn);
        }
        if (key != null) {
            m.put(key, value);
        }
        return java.util.Collections.unmodifiableMap(m);
    }

    // ------------------------------------------------------------------ scheduling

    /** Queue the task for a slot (its {@code queued} flag is already set). */
    private void requestSlot(TaskState s) {
        boolean start = false;
        synchronized (schedLock) {
            if (slotsInUse < config.maxConcurrentTasks() && readyQueue.isEmpty()) {
                slotsInUse++;
                start = true;
            } else {
                readyQueue.add(s);
            }
        }
        if (start && !startTurn(s)) {
            releaseSlot();
        }
    }

    private void releaseSlot() {
        while (true) {
            TaskState next;
            synchronized (schedLock) {
                next = readyQueue.poll();
                if (next == null || closed) {
                    if (next != null) {
                        readyQueue.addFirst(next);
                    }
                    slotsInUse--;
                    return;
                }
            }
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
        Instant now = clock.instant();
        List<StoreOp> ops = new ArrayList<>(4);
        TaskStatus from = s.task().status();
        Task before = s.task();
        if (from != TaskStatus.RUNNING) {
            Task t = before.withStatus(TaskStatus.RUNNING, before.startedAt() == null ? now : null, null, null);
            s.record = s.record.withTask(t).withOwner(hostId, null);
            ops.add(new StoreOp.UpdateTask(s.record, from));
            ops.add(new StoreOp.AppendEvent(new TaskEvent(s.id, s.nextSeq++, TaskEvent.STATUS,
                    statusData(TaskStatus.RUNNING, number, null, null), now)));
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
        runningTurns.add(run);
        TaskState s = run.state;
        long timeoutMs = s.record.timeoutMillis() > 0 ? s.record.timeoutMillis()
                : config.defaultTimeout() == null ? 0 : config.defaultTimeout().toMillis();
        try {
            run.future = turnExecutor.submit(() -> execute(run, turn));
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
        }
        boolean keepSlot = false;
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
                        transitionLocked(s, TaskStatus.WAITING_FOR_INPUT, null, null, "question", question);
                        if (!s.inbox.isEmpty()) {
                            keepSlot = continueLocked(s);
                        }
                    }
                } else {
                    Map<String, Object> res = safeData(s, result.data(), "result");
                    if (res != null) {
                        if (!s.inbox.isEmpty()) {
                            keepSlot = continueLocked(s); // follow-ups sent while it ran are not dropped
                        } else {
                            finishLocked(s, TaskStatus.COMPLETED, "result", res);
                        }
                    }
                }
            }
        }
        if (keepSlot) {
            Turn next;
            TurnRun nextRun;
            synchronized (s) {
                nextRun = s.turn;
                next = nextRun == null ? null : turnFor(s, nextRun);
            }
            if (nextRun != null) {
                run.slotReleased.set(true);
                turnGone(run);
                launch(nextRun, next);
                return;
            }
        }
        releaseSlot(run);
    }

    /** @return true if a next turn was begun in the same slot */
    private boolean continueLocked(TaskState s) {
        return beginTurnLocked(s) != null;
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
    private CompletableFuture<Void> transitionLocked(TaskState s, TaskStatus to, Instant completedAt, String error,
                                                     String key, Object value) {
        TaskStatus from = s.task().status();
        if (!from.canMoveTo(to)) {
            throw new IllegalStateException("illegal transition of task " + s.id + ": " + from + " -> " + to);
        }
        Instant now = clock.instant();
        Task t = s.task().withStatus(to, null, to.isTerminal() ? now : completedAt, error);
        s.record = s.record.withTask(t);
        if (to.isTerminal()) {
            s.record = s.record.withOwner(null, null);
        }
        List<StoreOp> ops = List.of(new StoreOp.UpdateTask(s.record, from),
                new StoreOp.AppendEvent(new TaskEvent(s.id, s.nextSeq++, TaskEvent.STATUS,
                        statusData(to, s.turns, key, value), now)));
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
        return transitionLocked(s, to, null, error, key, value);
    }

    /** Writer thread: a unit was committed. */
    void applyCommitted(Writer.Unit u) {
        TaskState s = u.state;
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
                s.committedTask = ((StoreOp.UpdateTask) op).record().task();
            } else if (op instanceof StoreOp.InsertTask) {
                s.committedTask = ((StoreOp.InsertTask) op).record().task();
            }
        }
        Task committed = s.committedTask;
        if (committed.status().isTerminal()) {
            active.remove(s.id, s);
        } else if (committed.status() == TaskStatus.WAITING_FOR_INPUT) {
            s.tail.clear(); // an idle task keeps no events in memory; late readers page from the store
        }
        if (u.afterCommit != null) {
            u.afterCommit.run();
        }
    }

    /** Writer thread: a unit (and everything of the task queued before it) could not be written. */
    void writeFailed(TaskState s, Throwable error, List<Writer.Unit> units) {
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
                Instant now = clock.instant();
                String msg = "store failure: " + describe(error);
                Task t = committed.withStatus(TaskStatus.FAILED, null, now, msg);
                s.record = s.record.withTask(t).withOwner(null, null);
                failure = new Writer.Unit(s, s.writeGeneration, List.of(new StoreOp.UpdateTask(s.record, committed.status()),
                        new StoreOp.AppendEvent(new TaskEvent(s.id, s.nextSeq++, TaskEvent.STATUS,
                                statusData(TaskStatus.FAILED, "error", msg), now))), null,
                        () -> notify(l -> l.taskFinished(t)));
            }
        }
        if (turn != null) {
            interrupt(turn);
            scheduleSlotRelease(turn);
        }
        if (failure != null) {
            try {
                store.write(failure.ops);
                writer.committed(List.of(failure));
                return;
            } catch (RuntimeException e2) {
                log.error("task {}: could not record its failure either: {}", s.id, e2.toString());
                synchronized (s) {
                    s.dead = true;
                }
            }
        }
        active.remove(s.id, s);
        Set<EventSubscription> subs = subscriptions.get(s.id);
        if (subs != null) {
            subs.forEach(sub -> sub.fail(cause));
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
        Text.checkPlain(type, "type");
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
        Text.checkPlain(sessionId, "session_id");
        TaskState s = run.state;
        synchronized (s) {
            if (run.closed || s.turn != run) {
                return;
            }
            if (sessionId.equals(s.task().sessionId())) {
                return;
            }
            s.record = s.record.withTask(s.task().withSessionId(sessionId));
            submitLocked(s, List.of(new StoreOp.UpdateTask(s.record, s.task().status())), null, null);
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
        if (run.future != null) {
            run.future.cancel(true);
        }
    }

    /** A cancelled turn keeps its slot until its thread returns, or the grace time passes. */
    private void scheduleSlotRelease(TurnRun run) {
        long ms = config.cancelGrace().toMillis();
        if (run.future != null && run.future.isDone()) {
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
        Set<EventSubscription> open = subscriptions.get(taskId);
        if (open != null && store.task(taskId).isPresent()) {
            TaskDeletedException gone = new TaskDeletedException(taskId);
            open.forEach(sub -> sub.fail(gone));
        }
        TaskState s = liveState(taskId);
        if (s != null) {
            try {
                cancel(taskId);
            } catch (NoSuchTaskException e) {
                return false;
            }
            synchronized (s) {
                s.deleted = true;
                s.writeGeneration++; // drop anything a runaway turn still queues
            }
            writer.flush();
        }
        boolean existed = store.delete(taskId);
        if (s != null) {
            active.remove(taskId, s);
        }
        Set<EventSubscription> subs = subscriptions.get(taskId);
        if (subs != null) {
            TaskDeletedException gone = new TaskDeletedException(taskId);
            subs.forEach(sub -> sub.fail(gone));
        }
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
            submitLocked(s, List.of(new StoreOp.AddMessage(pm)), done, null);
            s.inbox.add(pm);
            needSlot = status == TaskStatus.WAITING_FOR_INPUT && s.turn == null && !s.queued;
            if (needSlot) {
                s.queued = true;
            }
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
        TaskState s = active.get(taskId);
        if (s != null && !s.deleted) {
            return Optional.of(Snapshots.committed(s));
        }
        return store.task(taskId).map(TaskRecord::task);
    }

    @Override
    public TaskPage list(TaskQuery query) {
        if (query == null) {
            throw new InvalidRequestException("query", "query must not be null");
        }
        TaskCursor after = query.cursor() == null ? null : decodeCursor(query.cursor());
        List<TaskRecord> rows = store.list(query, after, query.limit() + 1);
        boolean more = rows.size() > query.limit();
        List<Task> tasks = new ArrayList<>(Math.min(rows.size(), query.limit()));
        for (int i = 0; i < rows.size() && i < query.limit(); i++) {
            tasks.add(rows.get(i).task());
        }
        String next = more ? encodeCursor(tasks.get(tasks.size() - 1)) : null;
        return new TaskPage(tasks, next);
    }

    static String encodeCursor(Task last) {
        String raw = "v1:" + last.createdAt().getEpochSecond() + ":" + last.createdAt().getNano() + ":" + last.id();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    static TaskCursor decodeCursor(String cursor) {
        try {
            String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            String[] p = raw.split(":", 4);
            if (p.length != 4 || !p[0].equals("v1") || p[3].isEmpty()) {
                throw new IllegalArgumentException(raw);
            }
            return new TaskCursor(Instant.ofEpochSecond(Long.parseLong(p[1]), Long.parseLong(p[2])), p[3]);
        } catch (RuntimeException e) {
            throw new InvalidRequestException("cursor", "not a cursor issued by this library: " + cursor);
        }
    }

    @Override
    public int runningCount() {
        Map<TaskStatus, Long> c = store.countByStatus();
        return (int) (c.getOrDefault(TaskStatus.RUNNING, 0L) + c.getOrDefault(TaskStatus.WAITING_FOR_INPUT, 0L));
    }

    @Override
    public Map<TaskStatus, Long> countByStatus() {
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
            subscriptions.computeIfAbsent(taskId, k -> new CopyOnWriteArraySet<>()).add(sub);
            openSubscriptions.incrementAndGet();
            if (closed) {
                sub.fail(new ManagerClosedException());
            } else {
                sub.schedule();
            }
        };
    }

    void signal(String taskId) {
        Set<EventSubscription> subs = subscriptions.get(taskId);
        if (subs != null) {
            for (EventSubscription sub : subs) {
                sub.signal();
            }
        }
    }

    void unregister(EventSubscription sub) {
        Set<EventSubscription> subs = subscriptions.get(sub.taskId);
        if (subs != null && subs.remove(sub)) {
            openSubscriptions.decrementAndGet();
            if (subs.isEmpty()) {
                subscriptions.remove(sub.taskId, subs);
            }
        }
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
        synchronized (schedLock) {
            queued = readyQueue.size();
            running = slotsInUse;
        }
        return new ManagerStats(active.size(), running, queued, openSubscriptions.get(), tail, peakTail.get(),
                peakBuffer.get(), eventsAppended.get(), eventsDelivered.get(), writer.batches, eventsDropped.get());
    }

    // ------------------------------------------------------------------ listeners

    private void notify(java.util.function.Consumer<TaskListener> call) {
        for (TaskListener l : listeners) {
            try {
                call.accept(l);
            } catch (RuntimeException e) {
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
        synchronized (schedLock) {
            readyQueue.clear(); // queued tasks stay PENDING in the store: the next start recovers them
        }
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
        for (Set<EventSubscription> subs : subscriptions.values()) {
            subs.forEach(sub -> sub.fail(closedEx));
        }
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
