package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Which threads run turns and deliver events. */
class ThreadingTest {

    private final AtomicReference<Thread> turnThread = new AtomicReference<>();

    private final AgentRunner runner = new AgentRunner() {
        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return Optional.of(new AgentDescriptor(agentId, agentId, null));
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext ctx) {
            turnThread.set(Thread.currentThread());
            ctx.emit("hello", Map.of());
            return TurnResult.completed();
        }
    };

    private static boolean isVirtual(Thread t) throws Exception {
        return (boolean) Thread.class.getMethod("isVirtual").invoke(t);
    }

    @Test
    void defaultExecutorUsesVirtualThreadsOn21AndNamedPlatformThreadsOn17() throws Exception {
        CompletableFuture<String> deliveryThread = new CompletableFuture<>();
        try (TaskManager m = TaskManager.builder().store(TaskStore.inMemory()).runner(runner).build()) {
            Task t = m.create(TaskRequest.of("a", "go"));
            CompletableFuture<Void> done = new CompletableFuture<>();
            m.events(t.id()).subscribe(new Flow.Subscriber<TaskEvent>() {
                @Override public void onSubscribe(Flow.Subscription s) { s.request(Long.MAX_VALUE); }
                @Override public void onNext(TaskEvent e) { deliveryThread.complete(Thread.currentThread().getName()); }
                @Override public void onError(Throwable e) { done.completeExceptionally(e); }
                @Override public void onComplete() { done.complete(null); }
            });
            done.get(10, TimeUnit.SECONDS);
            Thread th = turnThread.get();
            if (Runtime.version().feature() >= 21) {
                assertThat(isVirtual(th)).as("turn thread %s is virtual", th).isTrue();
                assertThat(((Engine) m).usesVirtualThreads()).isTrue();
            } else {
                assertThat(th.getName()).startsWith("agent-task-");
                assertThat(((Engine) m).usesVirtualThreads()).isFalse();
            }
            assertThat(th.getName()).startsWith("agent-task-");
            assertThat(deliveryThread.get()).startsWith("agent-tasks-delivery-");
        }
    }

    @Test
    void aHostExecutorIsUsedAndNotShutDown() throws Exception {
        ExecutorService mine = Executors.newFixedThreadPool(2, r -> new Thread(r, "host-pool"));
        try {
            try (TaskManager m = TaskManager.builder().store(TaskStore.inMemory()).runner(runner).executor(mine).build()) {
                Task t = m.create(TaskRequest.of("a", "go"));
                org.awaitility.Awaitility.await().until(() -> m.get(t.id()).orElseThrow().status().isTerminal());
                assertThat(turnThread.get().getName()).isEqualTo("host-pool");
            }
            assertThat(mine.isShutdown()).isFalse();
        } finally {
            mine.shutdownNow();
        }
    }
}
