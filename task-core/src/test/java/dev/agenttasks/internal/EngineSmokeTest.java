package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.SendResult;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A quick end-to-end check of the engine with the in-memory store (the full suites live in task-testkit). */
class EngineSmokeTest {

    static final class Collect implements Flow.Subscriber<TaskEvent> {
        final List<TaskEvent> events = new CopyOnWriteArrayList<>();
        final CompletableFuture<Void> done = new CompletableFuture<>();

        @Override public void onSubscribe(Flow.Subscription s) { s.request(Long.MAX_VALUE); }
        @Override public void onNext(TaskEvent item) { events.add(item); }
        @Override public void onError(Throwable t) { done.completeExceptionally(t); }
        @Override public void onComplete() { done.complete(null); }
    }

    final AgentRunner runner = new AgentRunner() {
        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return agentId.equals("echo") ? Optional.of(new AgentDescriptor("echo", "Echo", "m1")) : Optional.empty();
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext ctx) {
            ctx.sessionId("sess-1");
            for (int i = 0; i < 100; i++) {
                ctx.emit("token", Map.of("i", i));
            }
            if (turn.number() == 1) {
                return TurnResult.awaitingInput(Map.of("question", "more?"));
            }
            return TurnResult.completed(Map.of("answer", turn.message().text()));
        }
    };

    @Test
    void runsAsksResumesAndReplays() throws Exception {
        try (TaskManager m = TaskManager.builder().store(TaskStore.inMemory()).runner(runner).build()) {
            Task t = m.create(TaskRequest.of("echo", "hello"));
            assertThat(t.status()).isEqualTo(TaskStatus.PENDING);
            Collect live = new Collect();
            m.events(t.id()).subscribe(live);
            org.awaitility.Awaitility.await().until(() -> m.get(t.id()).orElseThrow().status() == TaskStatus.WAITING_FOR_INPUT);
            assertThat(m.runningCount()).isEqualTo(1);
            assertThat(m.sendMessage(t.id(), TaskMessage.text("yes"))).isEqualTo(SendResult.STARTED_TURN);
            live.done.get(10, TimeUnit.SECONDS);
            Task done = m.get(t.id()).orElseThrow();
            assertThat(done.status()).isEqualTo(TaskStatus.COMPLETED);
            assertThat(done.sessionId()).isEqualTo("sess-1");
            for (int i = 0; i < live.events.size(); i++) {
                assertThat(live.events.get(i).seq()).isEqualTo(i + 1);
            }
            assertThat(live.events.get(live.events.size() - 1).isTerminal()).isTrue();
            Collect replay = new Collect();
            m.events(t.id(), 5).subscribe(replay);
            replay.done.get(10, TimeUnit.SECONDS);
            assertThat(replay.events).isEqualTo(live.events.subList(5, live.events.size()));
        }
    }

    @Test
    void recoveryTellsListenersAndFailsInterruptedTasks() {
        TaskStore store = TaskStore.inMemory();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
        AgentRunner blocking = new AgentRunner() {
            @Override
            public Optional<AgentDescriptor> describe(String agentId) {
                return Optional.of(new AgentDescriptor(agentId, agentId, null));
            }

            @Override
            public TurnResult runTurn(Turn turn, TurnContext ctx) throws Exception {
                started.countDown();
                new java.util.concurrent.CountDownLatch(1).await();
                return TurnResult.completed();
            }
        };
        TaskStore keepOpen = new dev.agenttasks.spi.ForwardingTaskStore(store) { // the second manager reopens the same in-memory data
            @Override public void close() { }
        };
        Task t;
        try (TaskManager m = TaskManager.builder().store(keepOpen).runner(blocking)
                .shutdownTimeout(java.time.Duration.ZERO).build()) {
            t = m.create(TaskRequest.of("a", "block"));
            org.awaitility.Awaitility.await().until(() -> started.getCount() == 0);
        }
        assertThat(store.task(t.id()).orElseThrow().task().status()).isEqualTo(TaskStatus.RUNNING);
        List<String> seen = new CopyOnWriteArrayList<>();
        try (TaskManager m = TaskManager.builder().store(keepOpen).runner(blocking)
                .listener(new dev.agenttasks.TaskListener() {
                    @Override
                    public void taskRecovered(Task task, dev.agenttasks.RecoveryPolicy.Action action) {
                        seen.add(task.id() + ":" + task.status() + ":" + action);
                    }
                }).build()) {
            assertThat(seen).containsExactly(t.id() + ":RUNNING:FAIL");
            Task after = m.get(t.id()).orElseThrow();
            assertThat(after.status()).isEqualTo(TaskStatus.FAILED);
            assertThat(after.error()).isEqualTo(dev.agenttasks.RecoveryPolicy.INTERRUPTED);
        }
    }
}
