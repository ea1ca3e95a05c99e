package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskCursor;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import org.awaitility.Awaitility;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/** Test helpers for the engine's regression tests: a scripted runner, a store with faults, a subscriber. */
final class Harness {
    static final Duration WAIT = Duration.ofSeconds(10);

    private Harness() {
    }

    /** A runner with one agent, "a", whose turns do what the current script says. */
    static final class Runner implements AgentRunner {
        volatile BiFunction<Turn, TurnContext, TurnResult> script = (t, c) -> TurnResult.completed();

        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return agentId.equals("a") ? Optional.of(new AgentDescriptor("a", "Agent", "m")) : Optional.empty();
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext ctx) throws Exception {
            return script.apply(turn, ctx);
        }
    }

    /** A latch that a turn waits on; uninterruptible waits model a runner that ignores cancellation. */
    static final class Gate {
        private final CountDownLatch open = new CountDownLatch(1);
        private final CountDownLatch entered = new CountDownLatch(1);

        void pass() {
            entered.countDown();
            try {
                open.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RuntimeException("interrupted at the gate", e);
            }
        }

        void passIgnoringInterrupts() {
            entered.countDown();
            boolean interrupted = false;
            while (true) {
                try {
                    open.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        void awaitEntered() {
            try {
                if (!entered.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new AssertionError("nobody reached the gate");
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }

        void open() {
            open.countDown();
        }
    }

    /** Delegates to an in-memory store; its close does not close the data, so a second manager can reopen it. */
    static final class Store extends dev.agenttasks.spi.ForwardingTaskStore {
        final TaskStore data;
        /** Returns an exception to throw instead of writing, or null to write. */
        volatile Function<List<StoreOp>, RuntimeException> writeFault = ops -> null;
        volatile boolean closed;

        Store(TaskStore data) {
            super(data);
            this.data = data;
        }

        Store() {
            this(TaskStore.inMemory());
        }

        Store reopen() {
            return new Store(data);
        }

        private void open() {
            if (closed) {
                throw new dev.agenttasks.TaskStoreException("store is closed");
            }
        }

        @Override
        public void write(List<StoreOp> ops) {
            open();
            RuntimeException e = writeFault.apply(ops);
            if (e != null) {
                throw e;
            }
            data.write(ops);
        }

        @Override
        public Optional<TaskRecord> task(String taskId) {
            open();
            return data.task(taskId);
        }

        @Override
        public List<TaskRecord> list(TaskQuery query, TaskCursor after, int limit) {
            open();
            return data.list(query, after, limit);
        }

        @Override
        public List<TaskRecord> findByStatus(Set<TaskStatus> statuses) {
            open();
            return data.findByStatus(statuses);
        }

        @Override
        public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
            open();
            return data.events(taskId, afterSeq, limit);
        }

        @Override
        public List<PendingMessage> pendingMessages(String taskId) {
            open();
            return data.pendingMessages(taskId);
        }

        @Override
        public Map<TaskStatus, Long> countByStatus() {
            open();
            return data.countByStatus();
        }

        @Override
        public boolean delete(String taskId) {
            open();
            return data.delete(taskId);
        }

        @Override
        public int purgeTerminal(Instant completedBefore, int limit) {
            open();
            return data.purgeTerminal(completedBefore, limit);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** Records every signal; requests what the test asks for. */
    static final class Sub implements Flow.Subscriber<TaskEvent> {
        final List<TaskEvent> events = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final long initial;
        volatile Flow.Subscription subscription;
        final CountDownLatch subscribed = new CountDownLatch(1);

        Sub(long initial) {
            this.initial = initial;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            subscribed.countDown();
            if (initial > 0) {
                s.request(initial);
            }
        }

        @Override
        public void onNext(TaskEvent item) {
            events.add(item);
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            done.complete(null);
        }

        Throwable awaitError() {
            try {
                done.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                return e.getCause();
            } catch (Exception e) {
                throw new AssertionError("no terminal signal", e);
            }
            throw new AssertionError("completed without an error");
        }
    }

    static Engine engine(TaskStore store, AgentRunner runner, Function<TaskManager.Builder, TaskManager.Builder> settings) {
        TaskManager.Builder b = TaskManager.builder().store(store).runner(runner)
                .cancelGrace(Duration.ofMillis(500)).shutdownTimeout(Duration.ofMillis(500));
        return (Engine) settings.apply(b).build();
    }

    static void await(Supplier<Boolean> condition) {
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(2)).until(condition::get);
    }

    static Task awaitStatus(TaskManager m, String id, TaskStatus status) {
        await(() -> m.get(id).map(Task::status).orElse(null) == status);
        return m.get(id).orElseThrow();
    }

    /** Waits until every timer action scheduled to run now or earlier has run. */
    static void timerIdle(Engine e) {
        try {
            e.timer.schedule(() -> { }, 0, TimeUnit.MILLISECONDS).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception ex) {
            throw new AssertionError(ex);
        }
    }

    /** Waits until the (single) delivery thread has run everything queued before this call. */
    static void deliveryIdle(Engine e) {
        try {
            e.deliveryExecutor.submit(() -> { }).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception ex) {
            throw new AssertionError(ex);
        }
    }
}
