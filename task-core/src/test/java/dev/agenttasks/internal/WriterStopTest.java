package dev.agenttasks.internal;

import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static dev.agenttasks.internal.Harness.WAIT;
import static dev.agenttasks.internal.Harness.await;
import static dev.agenttasks.internal.Harness.awaitStatus;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A caller waits for its write without a timeout while the manager is open; close() must still end that
 * wait when the store call holding the write hangs past the shutdown bound (issue 7, defect 5).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WriterStopTest {

    @Test
    void aWriteHangingInTheStoreEndsWithManagerClosedAtClose() throws Exception {
        Harness.Runner runner = new Harness.Runner();
        runner.script = (t, c) -> TurnResult.awaitingInput(Map.of("q", "?"));
        Harness.Store store = new Harness.Store();
        CountDownLatch inStore = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Engine m = Harness.engine(store, runner, b -> b.shutdownTimeout(Duration.ofMillis(200)));
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            Task task = m.create(TaskRequest.of("a", "go"));
            awaitStatus(m, task.id(), TaskStatus.WAITING_FOR_INPUT);
            await(() -> m.stats().runningTurns() == 0);
            store.writeFault = ops -> {
                if (ops.stream().anyMatch(o -> o instanceof StoreOp.AddMessage)) {
                    inStore.countDown();
                    try {
                        release.await(); // the store call hangs (a lock, a dead connection) until the test ends
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return null;
            };
            CompletableFuture<Object> call = CompletableFuture.supplyAsync(() -> {
                try {
                    return m.sendMessage(task.id(), TaskMessage.text("hello"));
                } catch (RuntimeException e) {
                    return e;
                }
            }, threads);
            assertThat(inStore.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            assertThat(call).isNotDone();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(m::close, threads);
            Object outcome = call.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(outcome).isInstanceOf(ManagerClosedException.class);
            closing.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            release.countDown();
            threads.shutdownNow();
            m.close();
        }
    }
}
