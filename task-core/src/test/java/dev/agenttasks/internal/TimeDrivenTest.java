package dev.agenttasks.internal;

import dev.agenttasks.Task;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.agenttasks.internal.Harness.await;
import static dev.agenttasks.internal.Harness.awaitStatus;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Turn timeouts and cancel grace on a {@link ManualScheduler} with a {@link SettableClock}: time moves
 * only when the test advances it, so nothing here waits for a timer. (Waits that remain are for turn
 * threads and the writer, on conditions.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TimeDrivenTest {
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private final SettableClock clock = new SettableClock(START);
    private final ManualScheduler scheduler = new ManualScheduler(clock);
    private final Harness.Runner runner = new Harness.Runner();
    private final List<Harness.Gate> gates = new ArrayList<>();
    private final AtomicInteger graceExpired = new AtomicInteger();
    private Engine engine;

    @AfterEach
    void tearDown() {
        gates.forEach(Harness.Gate::open);
        if (engine != null) {
            engine.close();
        }
    }

    private int hostTimers;

    private Engine start(java.util.function.Function<dev.agenttasks.TaskManager.Builder, dev.agenttasks.TaskManager.Builder> s) {
        engine = Harness.engine(new Harness.Store(), runner, b -> s.apply(b.clock(clock).scheduler(scheduler)));
        hostTimers = scheduler.pending(); // the host's heartbeat and polls: always one pending each
        engine.hooks = new EngineHooks() {
            @Override
            public void graceExpired(TaskState st) {
                graceExpired.incrementAndGet();
            }
        };
        return engine;
    }

    private Harness.Gate gate() {
        Harness.Gate g = new Harness.Gate();
        gates.add(g);
        return g;
    }

    /** Turns block on a gate named by their message; a name starting with "stubborn" ignores interrupts. */
    private void gatedTurns(java.util.Map<String, Harness.Gate> byText) {
        runner.script = (t, c) -> {
            String text = t.message() == null ? "" : t.message().text();
            Harness.Gate g = byText.get(text);
            if (g != null) {
                if (text.startsWith("stubborn")) {
                    g.passIgnoringInterrupts();
                } else {
                    g.pass();
                }
            }
            return TurnResult.completed();
        };
    }

    @Test
    void turnTimeoutFiresWhenTheClockReachesIt() {
        Harness.Gate slow = gate();
        gatedTurns(java.util.Map.of("slow", slow));
        Engine m = start(b -> b.defaultTimeout(Duration.ofMinutes(1)));
        Task t = m.create(TaskRequest.of("a", "slow"));
        slow.awaitEntered();
        awaitStatus(m, t.id(), TaskStatus.RUNNING); // reads show committed state; the RUNNING commit may trail the turn's start
        assertThat(scheduler.pending() - hostTimers).as("the turn's timeout is scheduled").isEqualTo(1);

        scheduler.advance(Duration.ofSeconds(59));
        assertThat(m.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.RUNNING);

        scheduler.advance(Duration.ofSeconds(1));
        Task failed = awaitStatus(m, t.id(), TaskStatus.FAILED);
        assertThat(failed.error()).startsWith("timeout: turn 1 ran longer than PT1M");
        assertThat(failed.completedAt()).isEqualTo(START.plusSeconds(60));
        await(() -> m.stats().runningTurns() == 0); // the interrupted turn returned and gave its slot back
        assertThat(graceExpired).hasValue(0);
    }

    @Test
    void turnEndingInTimeCancelsItsTimeout() {
        Harness.Gate quick = gate();
        gatedTurns(java.util.Map.of("quick", quick));
        Engine m = start(b -> b.defaultTimeout(Duration.ofMinutes(1)));
        Task t = m.create(TaskRequest.of("a", "quick"));
        quick.awaitEntered();
        scheduler.advance(Duration.ofSeconds(30));
        quick.open();
        awaitStatus(m, t.id(), TaskStatus.COMPLETED);
        await(() -> scheduler.pending() == hostTimers);
        scheduler.advance(Duration.ofMinutes(5));
        assertThat(m.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.COMPLETED);
    }

    @Test
    void cancelGraceExpiresOnceForATurnThatIgnoresInterrupts() {
        Harness.Gate stubborn = gate();
        Harness.Gate next = gate();
        gatedTurns(java.util.Map.of("stubborn", stubborn, "next", next));
        Engine m = start(b -> b.maxConcurrentTasks(1).cancelGrace(Duration.ofSeconds(10)));
        Task a = m.create(TaskRequest.of("a", "stubborn"));
        stubborn.awaitEntered();
        Task b = m.create(TaskRequest.of("a", "next"));
        assertThat(m.cancel(a.id())).isTrue();
        assertThat(scheduler.pending() - hostTimers).as("the grace timer").isEqualTo(1);

        scheduler.advance(Duration.ofSeconds(9));
        assertThat(m.stats().runningTurns()).as("the slot is held through the grace").isEqualTo(1);
        assertThat(m.get(b.id()).orElseThrow().status()).isEqualTo(TaskStatus.PENDING);
        assertThat(graceExpired).hasValue(0);

        scheduler.advance(Duration.ofSeconds(1));
        assertThat(graceExpired).as("the warning, once").hasValue(1);
        next.awaitEntered(); // the slot passed to the queued task
        assertThat(m.stats().runningTurns()).isEqualTo(1);
        assertThat(m.stats().queuedTurns()).isZero();

        // the stubborn thread finally returns: it must not release the slot a second time
        stubborn.open();
        Harness.Gate third = gate();
        gatedTurns(java.util.Map.of("third", third, "next", next));
        Task c = m.create(TaskRequest.of("a", "third"));
        scheduler.advance(Duration.ofMinutes(1));
        assertThat(graceExpired).hasValue(1);
        assertThat(m.stats().runningTurns()).as("one slot, still held by the second task").isEqualTo(1);
        assertThat(m.get(c.id()).orElseThrow().status()).as("the limit still holds").isEqualTo(TaskStatus.PENDING);
        next.open();
        awaitStatus(m, b.id(), TaskStatus.COMPLETED);
        third.awaitEntered();
        third.open();
        awaitStatus(m, c.id(), TaskStatus.COMPLETED);
        await(() -> m.stats().runningTurns() == 0);
    }

    @Test
    void cancelGraceDoesNotExpireWhenTheTurnReturnsFirst() {
        Harness.Gate stubborn = gate();
        Harness.Gate next = gate();
        AtomicInteger nextTurns = new AtomicInteger();
        runner.script = (t, c) -> {
            String text = t.message().text();
            if (text.equals("stubborn")) {
                stubborn.passIgnoringInterrupts();
            } else {
                nextTurns.incrementAndGet();
                next.pass();
            }
            return TurnResult.completed();
        };
        Engine m = start(b -> b.maxConcurrentTasks(1).cancelGrace(Duration.ofSeconds(10)));
        Task a = m.create(TaskRequest.of("a", "stubborn"));
        stubborn.awaitEntered();
        Task b = m.create(TaskRequest.of("a", "next"));
        assertThat(m.cancel(a.id())).isTrue();
        scheduler.advance(Duration.ofSeconds(5));
        assertThat(m.get(b.id()).orElseThrow().status()).isEqualTo(TaskStatus.PENDING);

        stubborn.open(); // returns within the grace: its thread releases the slot
        next.awaitEntered();
        scheduler.advance(Duration.ofSeconds(30)); // past the grace
        assertThat(graceExpired).as("no warning: the turn returned in time").hasValue(0);
        assertThat(m.stats().runningTurns()).isEqualTo(1);
        next.open();
        awaitStatus(m, b.id(), TaskStatus.COMPLETED);
        await(() -> m.stats().runningTurns() == 0);
        assertThat(nextTurns).hasValue(1);
        assertThat(m.get(a.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
    }
}
