package dev.agenttasks.internal;

import dev.agenttasks.SendOptions;
import dev.agenttasks.MessageStrategy;
import dev.agenttasks.RetryPolicy;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TransientTurnException;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;

import static dev.agenttasks.internal.Harness.await;
import static dev.agenttasks.internal.Harness.awaitStatus;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retries of turns that failed transiently, on a {@link ManualScheduler} with a {@link SettableClock}:
 * the backoff, the retry events, the end of the attempts, cancel while waiting, and a restart while
 * waiting (the stored time is honoured). No test waits for a delay to pass.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RetryTest {
    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private final SettableClock clock = new SettableClock(START);
    private ManualScheduler scheduler = new ManualScheduler(clock);
    private final Harness.Runner runner = new Harness.Runner();
    private final Harness.Store store = new Harness.Store();
    /** Every turn the runner was given, in order. */
    private final List<Turn> seen = new CopyOnWriteArrayList<>();
    private Engine engine;

    @AfterEach
    void tearDown() {
        if (engine != null) {
            engine.close();
        }
    }

    /** Timers of the host protocol (heartbeat, polls) pending at start; they reschedule themselves. */
    private int hostTimers = -1;

    private Engine start(Harness.Store s, Function<TaskManager.Builder, TaskManager.Builder> settings) {
        // one stable host id: a restart recovers its own tasks at once (another id would wait for the takeover)
        engine = Harness.engine(s, runner, b -> settings.apply(b.clock(clock).scheduler(scheduler).hostId("retry-host")));
        if (hostTimers < 0) { // measured at the first start, before any task: the host's heartbeat and polls
            hostTimers = scheduler.pending();
        }
        return engine;
    }

    /** Turns fail transiently while their message's text is in {@code failing}'s count, then complete. */
    private void failTimes(int n, RuntimeException... kinds) {
        runner.script = (t, c) -> {
            seen.add(t);
            if (seen.size() <= n) {
                throw kinds.length > 0 ? kinds[0] : new TransientTurnException("HTTP 429: slow down (" + seen.size() + ")");
            }
            return TurnResult.completed(Map.of("text", "done"));
        };
    }

    private List<TaskEvent> events(String id) {
        return store.data.events(id, 0, 10_000);
    }

    private List<TaskEvent> ofType(String id, String type) {
        return events(id).stream().filter(e -> e.type().equals(type)).collect(Collectors.toList());
    }

    private List<String> statuses(String id) {
        return events(id).stream().filter(TaskEvent::isStatus).map(e -> (String) e.data().get("status"))
                .collect(Collectors.toList());
    }

    /** Waits until the task waits for its retry: committed PENDING and the retry's timer scheduled. */
    private void awaitRetryScheduled(TaskManager m, String id, int retryEvents) {
        await(() -> ofType(id, Retries.RETRY).size() == retryEvents
                && m.get(id).orElseThrow().status() == TaskStatus.PENDING && scheduler.pending() - hostTimers == 1);
    }

    @Test
    void transientFailuresAreRetriedWithExponentialBackoffThenTheTaskCompletes() {
        failTimes(2);
        List<String> retried = new CopyOnWriteArrayList<>();
        Engine m = start(store, b -> b.retryPolicy(RetryPolicy.builder().initialInterval(Duration.ofSeconds(1))
                .multiplier(2).maxAttempts(5).build()).listener(new dev.agenttasks.TaskListener() {
                    @Override
                    public void turnRetrying(Task task, int turn, int failedAttempt, Instant next, String error) {
                        retried.add(task.status() + " " + turn + "/" + failedAttempt + " " + next);
                    }
                }));
        Task t = m.create(TaskRequest.of("a", "hello"));
        awaitRetryScheduled(m, t.id(), 1);
        TaskEvent first = ofType(t.id(), Retries.RETRY).get(0);
        assertThat(first.data()).containsEntry("turn", 1L).containsEntry("attempt", 1L).containsEntry("max_attempts", 5L)
                .containsEntry("delay_ms", 1000L).containsEntry("next_attempt_at", START.plusSeconds(1).toString())
                .containsEntry("error", "HTTP 429: slow down (1)");
        assertThat(m.stats().runningTurns()).as("no slot held while waiting").isZero();

        scheduler.advance(Duration.ofMillis(999));
        assertThat(seen).as("not run early").hasSize(1);
        scheduler.advance(Duration.ofMillis(1));
        awaitRetryScheduled(m, t.id(), 2);
        assertThat(ofType(t.id(), Retries.RETRY).get(1).data()).containsEntry("attempt", 2L)
                .containsEntry("delay_ms", 2000L).containsEntry("next_attempt_at", START.plusSeconds(3).toString());

        scheduler.advance(Duration.ofMillis(1999));
        assertThat(seen).hasSize(2);
        scheduler.advance(Duration.ofMillis(1));
        Task done = awaitStatus(m, t.id(), TaskStatus.COMPLETED);
        assertThat(done.error()).isNull();
        assertThat(seen).hasSize(3).allSatisfy(turn -> {
            assertThat(turn.number()).as("the same turn, again").isEqualTo(1);
            assertThat(turn.message().text()).isEqualTo("hello");
        });
        assertThat(statuses(t.id())).containsExactly("pending", "running", "pending", "running", "pending", "running",
                "completed");
        assertThat(ofType(t.id(), Engine.USER_MESSAGE)).as("the message is recorded once").hasSize(1);
        assertThat(retried).containsExactly("PENDING 1/1 " + START.plusSeconds(1), "PENDING 1/2 " + START.plusSeconds(3));
    }

    @Test
    void whenTheAttemptsRunOutTheTaskFailsWithTheLastCause() {
        runner.script = (t, c) -> {
            seen.add(t);
            throw new IllegalStateException("wrapped", new TransientTurnException("HTTP 500: upstream down"));
        };
        Engine m = start(store, b -> b.retryPolicy(RetryPolicy.builder().initialInterval(Duration.ofSeconds(1))
                .multiplier(10).maxInterval(Duration.ofSeconds(5)).maxAttempts(3).build()));
        Task t = m.create(TaskRequest.of("a", "x"));
        awaitRetryScheduled(m, t.id(), 1);
        scheduler.advance(Duration.ofSeconds(1));
        awaitRetryScheduled(m, t.id(), 2);
        assertThat(ofType(t.id(), Retries.RETRY).get(1).data()).as("capped").containsEntry("delay_ms", 5000L);
        scheduler.advance(Duration.ofSeconds(5));
        Task failed = awaitStatus(m, t.id(), TaskStatus.FAILED);
        assertThat(failed.error()).isEqualTo("wrapped");
        assertThat(seen).hasSize(3);
        assertThat(ofType(t.id(), Retries.RETRY)).hasSize(2);
        await(() -> m.stats().runningTurns() == 0);
        assertThat(scheduler.pending() - hostTimers).isZero();
    }

    @Test
    void aFailureThatIsNotTransientFailsAtOnce() {
        failTimes(1, new IllegalArgumentException("bad request"));
        Engine m = start(store, b -> b);
        Task t = m.create(TaskRequest.of("a", "x"));
        assertThat(awaitStatus(m, t.id(), TaskStatus.FAILED).error()).isEqualTo("bad request");
        assertThat(ofType(t.id(), Retries.RETRY)).isEmpty();
        assertThat(seen).hasSize(1);
    }

    @Test
    void retriesCanBeTurnedOffPerTask() {
        failTimes(5);
        Engine m = start(store, b -> b);
        Task t = m.create(TaskRequest.builder("a").text("x").retryPolicy(RetryPolicy.none()).build());
        assertThat(awaitStatus(m, t.id(), TaskStatus.FAILED).error()).isEqualTo("HTTP 429: slow down (1)");
        assertThat(ofType(t.id(), Retries.RETRY)).isEmpty();
        assertThat(ofType(t.id(), Retries.POLICY)).singleElement().satisfies(e ->
                assertThat(e.data()).containsEntry("max_attempts", 1L));
    }

    @Test
    void cancelStopsAWaitingRetryAtOnce() {
        failTimes(10);
        Engine m = start(store, b -> b);
        Task t = m.create(TaskRequest.of("a", "x"));
        awaitRetryScheduled(m, t.id(), 1);
        assertThat(m.cancel(t.id())).isTrue();
        assertThat(m.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        assertThat(scheduler.pending() - hostTimers).as("the retry's timer is cancelled").isZero();
        scheduler.advance(Duration.ofMinutes(10));
        assertThat(seen).hasSize(1);
        assertThat(statuses(t.id())).containsExactly("pending", "running", "pending", "cancelled");
    }

    @Test
    void aRetryWaitingAtARestartRunsAtItsStoredTimeWithItsMessageAndPolicy() {
        // turn 1 asks; the answer's turn 2 fails transiently; the task's own policy: 10 s, at most 2 attempts
        runner.script = (t, c) -> {
            seen.add(t);
            if (t.number() == 1) {
                return TurnResult.awaitingInput(Map.of("question", "which?"));
            }
            throw new TransientTurnException("HTTP 503");
        };
        Engine m = start(store, b -> b.retryPolicy(RetryPolicy.builder().maxAttempts(9).build()));
        Task t = m.create(TaskRequest.builder("a").text("start")
                .retryPolicy(RetryPolicy.builder().initialInterval(Duration.ofSeconds(10)).maxAttempts(2).build()).build());
        awaitStatus(m, t.id(), TaskStatus.WAITING_FOR_INPUT);
        assertThat(m.sendMessage(t.id(), TaskMessage.text("the second"))).isEqualTo(SendResult.STARTED_TURN);
        awaitRetryScheduled(m, t.id(), 1);
        m.close();
        engine = null;

        scheduler = new ManualScheduler(clock); // a new process: the old timers are gone
        scheduler.advance(Duration.ofSeconds(4));
        List<Turn> before = List.copyOf(seen);
        Engine m2 = start(store.reopen(), b -> b.retryPolicy(RetryPolicy.builder().maxAttempts(9).build()));
        assertThat(m2.get(t.id()).orElseThrow().status()).as("not failed as interrupted").isEqualTo(TaskStatus.PENDING);
        assertThat(scheduler.pending() - hostTimers).as("the retry is scheduled").isEqualTo(1);
        scheduler.advance(Duration.ofSeconds(5));
        assertThat(seen).as("not run early").isEqualTo(before);
        scheduler.advance(Duration.ofSeconds(1));
        Task failed = awaitStatus(m2, t.id(), TaskStatus.FAILED);
        assertThat(failed.error()).as("the task's own policy: 2 attempts").isEqualTo("HTTP 503");
        Turn retried = seen.get(seen.size() - 1);
        assertThat(retried.number()).isEqualTo(2);
        assertThat(retried.message().text()).isEqualTo("the second");
        assertThat(seen).hasSize(before.size() + 1);
    }

    @Test
    void aRetryWhoseTimePassedDuringTheRestartRunsAtOnce() {
        failTimes(1);
        Engine m = start(store, b -> b);
        Task t = m.create(TaskRequest.of("a", "first"));
        awaitRetryScheduled(m, t.id(), 1);
        m.close();
        engine = null;
        scheduler = new ManualScheduler(clock);
        scheduler.advance(Duration.ofMinutes(1));
        Engine m2 = start(store.reopen(), b -> b);
        scheduler.advance(Duration.ZERO);
        awaitStatus(m2, t.id(), TaskStatus.COMPLETED);
        assertThat(seen).hasSize(2);
        assertThat(seen.get(1).number()).isEqualTo(1);
        assertThat(seen.get(1).message().text()).as("turn 1's message, read from the log").isEqualTo("first");
    }

    @Test
    void aMessageQueuedWhileWaitingRunsAfterTheRetry() {
        failTimes(1);
        Engine m = start(store, b -> b);
        Task t = m.create(TaskRequest.of("a", "first"));
        awaitRetryScheduled(m, t.id(), 1);
        assertThat(m.sendMessage(t.id(), TaskMessage.text("next"))).isEqualTo(SendResult.QUEUED);
        scheduler.advance(Duration.ofSeconds(1));
        awaitStatus(m, t.id(), TaskStatus.COMPLETED);
        assertThat(seen).extracting(turn -> turn.number() + ":" + turn.message().text())
                .containsExactly("1:first", "1:first", "2:next");
    }

    @Test
    void anInterruptingMessageDropsAWaitingRetry() {
        failTimes(1);
        Engine m = start(store, b -> b);
        Task t = m.create(TaskRequest.of("a", "first"));
        awaitRetryScheduled(m, t.id(), 1);
        assertThat(m.sendMessage(t.id(), TaskMessage.text("instead"), SendOptions.strategy(MessageStrategy.INTERRUPT)))
                .isEqualTo(SendResult.INTERRUPTED_TURN);
        assertThat(scheduler.pending() - hostTimers).as("the retry's timer is cancelled").isZero();
        awaitStatus(m, t.id(), TaskStatus.COMPLETED);
        scheduler.advance(Duration.ofMinutes(1));
        assertThat(seen).extracting(turn -> turn.number() + ":" + turn.message().text())
                .containsExactly("1:first", "2:instead");
        assertThat(ofType(t.id(), MessageStrategies.INTERRUPTED)).singleElement()
                .satisfies(e -> assertThat(e.data()).containsEntry("turn", 1L));
    }

    @Test
    void delaysFollowThePolicy() {
        RetryPolicy p = RetryPolicy.defaults();
        assertThat(p.initialInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.maxInterval()).isEqualTo(Duration.ofSeconds(100));
        assertThat(p.maxAttempts()).isEqualTo(5);
        assertThat(List.of(p.delayAfter(1), p.delayAfter(2), p.delayAfter(3), p.delayAfter(8), p.delayAfter(1000)))
                .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
                        Duration.ofSeconds(100), Duration.ofSeconds(100));
        assertThat(Retries.isTransient(new UncheckedIOException(new IOException("x")))).isFalse();
        assertThat(Retries.isTransient(new RuntimeException(new TransientTurnException("x")))).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RetryPolicy.builder().multiplier(0.5).build())
                .isInstanceOf(IllegalArgumentException.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0).build())
                .isInstanceOf(IllegalArgumentException.class);
    }
}
