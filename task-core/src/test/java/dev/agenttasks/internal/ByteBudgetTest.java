package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static dev.agenttasks.internal.Harness.WAIT;
import static dev.agenttasks.internal.Harness.await;
import static dev.agenttasks.internal.Harness.awaitStatus;
import static org.assertj.core.api.Assertions.assertThat;

/** A burst of large events is bounded by the byte budgets of the write queue and of the live tail. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ByteBudgetTest {
    private static final int EVENTS = 100;
    private static final String TEXT = "x".repeat(10_000);
    private final Harness.Runner runner = new Harness.Runner();
    private final Harness.Store store = new Harness.Store();
    private Engine engine;

    @AfterEach
    void tearDown() {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void emittersWaitWhenQueuedEventsReachTheByteBudget() throws Exception {
        CountDownLatch storeOpen = new CountDownLatch(1);
        AtomicInteger emitted = new AtomicInteger();
        AtomicReference<Thread> turnThread = new AtomicReference<>();
        runner.script = (t, c) -> {
            turnThread.set(Thread.currentThread());
            for (int i = 0; i < EVENTS; i++) {
                c.emit("big", Map.of("text", TEXT));
                emitted.incrementAndGet();
            }
            return TurnResult.completed();
        };
        // the store holds back every batch with a big event until the test opens it
        store.writeFault = ops -> {
            for (StoreOp op : ops) {
                if (op instanceof StoreOp.AppendEvent && ((StoreOp.AppendEvent) op).event().type().equals("big")) {
                    try {
                        storeOpen.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    break;
                }
            }
            return null;
        };
        // the count bound alone (65536 writes) would let the whole burst queue up
        engine = Harness.engine(store, runner, b -> b.writeQueueBytes(50_000));
        Task task = engine.create(TaskRequest.of("a", "burst"));
        await(() -> turnThread.get() != null && turnThread.get().getState() == Thread.State.WAITING
                && emitted.get() > 0);
        int perEvent = Events.size("big", Json.copyEncoded(Map.of("text", TEXT), "data", 1 << 20));
        assertThat(emitted.get()).as("events queued or in the stalled batch fit in the byte budget")
                .isLessThanOrEqualTo(50_000 / perEvent)
                .isLessThan(EVENTS);
        storeOpen.countDown();
        awaitStatus(engine, task.id(), TaskStatus.COMPLETED);
        assertThat(emitted).hasValue(EVENTS);
        assertThat(store.events(task.id(), 0, 1000)).filteredOn(e -> e.type().equals("big")).hasSize(EVENTS);
    }

    @Test
    void liveTailIsBoundedByBytesAndSubscribersStillGetEveryEvent() {
        CountDownLatch finish = new CountDownLatch(1);
        runner.script = (t, c) -> {
            for (int i = 0; i < EVENTS; i++) {
                c.emit("big", Map.of("text", TEXT, "i", (long) i));
            }
            try {
                finish.await(WAIT.toMillis(), TimeUnit.MILLISECONDS); // the task stays active, its tail held
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return TurnResult.completed();
        };
        engine = Harness.engine(store, runner, b -> b.liveTailBytes(50_000).liveTailSize(4096));
        Task task = engine.create(TaskRequest.of("a", "burst"));
        await(() -> engine.stats().eventsAppended() >= EVENTS + 3);
        int perEvent = Events.size("big", Json.copyEncoded(Map.of("text", TEXT, "i", 0L), "data", 1 << 20));
        assertThat(engine.stats().tailEvents()).as("a count bound of 4096 alone would hold all %d", EVENTS)
                .isLessThanOrEqualTo(50_000 / perEvent + 1);
        assertThat(engine.stats().peakTailEvents()).as("at most the three small events of the start share the budget")
                .isLessThanOrEqualTo(50_000 / perEvent + 3);

        Harness.Sub sub = new Harness.Sub(Long.MAX_VALUE); // a late subscriber reads the rest from the store
        engine.events(task.id()).subscribe(sub);
        finish.countDown();
        sub.done.orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join();
        assertThat(sub.events).extracting(TaskEvent::seq)
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, sub.events.size()).boxed().toList());
        assertThat(sub.events).filteredOn(e -> e.type().equals("big")).hasSize(EVENTS);
    }
}
