package dev.agenttasks.internal;

import dev.agenttasks.SendOptions;
import dev.agenttasks.MessageStrategy;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskBusyException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;

import static dev.agenttasks.internal.Harness.WAIT;
import static dev.agenttasks.internal.Harness.await;
import static dev.agenttasks.internal.Harness.awaitStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Messages sent while a task is busy, under each {@link MessageStrategy}, including races with the turn's end. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MessageStrategyTest {
    private final Harness.Runner runner = new Harness.Runner();
    private final Harness.Store store = new Harness.Store();
    private final List<Harness.Gate> gates = new ArrayList<>();
    /** "turn:text" of every turn the runner started. */
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private final List<Engine> engines = new ArrayList<>();

    @AfterEach
    void tearDown() {
        gates.forEach(Harness.Gate::open);
        engines.forEach(Engine::close);
    }

    private Engine start(Function<TaskManager.Builder, TaskManager.Builder> s) {
        Engine e = Harness.engine(store, runner, s);
        engines.add(e);
        return e;
    }

    private Harness.Gate gate() {
        Harness.Gate g = new Harness.Gate();
        gates.add(g);
        return g;
    }

    /** Turns whose message text is a key wait at that gate; "stubborn…" ignores interrupts. */
    private void gated(Map<String, Harness.Gate> byText) {
        runner.script = (t, c) -> {
            String text = t.message() == null ? "" : t.message().text();
            seen.add(t.number() + ":" + text);
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

    @Test
    void rejectRefusesAMessageForARunningTaskAndStoresNothing() {
        Harness.Gate g = gate();
        gated(Map.of("work", g));
        Engine m = start(b -> b.messageStrategy(MessageStrategy.REJECT));
        Task t = m.create(TaskRequest.of("a", "work"));
        g.awaitEntered();
        assertThatThrownBy(() -> m.sendMessage(t.id(), TaskMessage.text("more")))
                .isInstanceOf(TaskBusyException.class).isInstanceOf(TaskNotAcceptingMessagesException.class)
                .satisfies(e -> assertThat(((TaskBusyException) e).status()).isIn(TaskStatus.PENDING, TaskStatus.RUNNING));
        assertThat(store.data.pendingMessages(t.id())).isEmpty();
        g.open();
        awaitStatus(m, t.id(), TaskStatus.COMPLETED);
        assertThat(ofType(t.id(), Engine.USER_MESSAGE)).hasSize(1);
        assertThat(seen).containsExactly("1:work");
    }

    @Test
    void rejectRefusesAQueuedTaskButAcceptsAnAnswerToAQuestion() {
        Harness.Gate g = gate();
        runner.script = (t, c) -> {
            String text = t.message().text();
            seen.add(t.number() + ":" + text);
            if (text.equals("block")) {
                g.pass();
            }
            return text.equals("ask") ? TurnResult.awaitingInput(Map.of("question", "?")) : TurnResult.completed();
        };
        Engine m = start(b -> b.maxConcurrentTasks(1));
        Task blocker = m.create(TaskRequest.of("a", "block"));
        g.awaitEntered();
        Task queued = m.create(TaskRequest.of("a", "ask"));
        assertThatThrownBy(() -> m.sendMessage(queued.id(), TaskMessage.text("x"), SendOptions.strategy(MessageStrategy.REJECT)))
                .isInstanceOf(TaskBusyException.class);
        g.open();
        awaitStatus(m, blocker.id(), TaskStatus.COMPLETED);
        awaitStatus(m, queued.id(), TaskStatus.WAITING_FOR_INPUT);
        assertThat(m.sendMessage(queued.id(), TaskMessage.text("answer"), SendOptions.strategy(MessageStrategy.REJECT)))
                .isEqualTo(SendResult.STARTED_TURN);
        awaitStatus(m, queued.id(), TaskStatus.COMPLETED);
        assertThat(seen).containsExactly("1:block", "1:ask", "2:answer");
    }

    @Test
    void enqueueIsTheDefault() {
        Harness.Gate g = gate();
        gated(Map.of("work", g));
        Engine m = start(b -> b);
        Task t = m.create(TaskRequest.of("a", "work"));
        g.awaitEntered();
        assertThat(m.sendMessage(t.id(), TaskMessage.text("more"))).isEqualTo(SendResult.QUEUED);
        g.open();
        awaitStatus(m, t.id(), TaskStatus.COMPLETED);
        assertThat(seen).containsExactly("1:work", "2:more");
    }

    @Test
    void interruptStopsTheRunningTurnAndRunsTheMessageWithoutCancellingTheTask() throws Exception {
        Harness.Gate g = gate();
        AtomicBoolean sawCancel = new AtomicBoolean();
        CountDownLatch firstReturned = new CountDownLatch(1);
        runner.script = (t, c) -> {
            String text = t.message().text();
            seen.add(t.number() + ":" + text);
            if (text.equals("long")) {
                try {
                    g.pass();
                } finally {
                    sawCancel.set(c.isCancelled());
                    firstReturned.countDown();
                }
            }
            return TurnResult.completed(Map.of("answer", text));
        };
        Engine m = start(b -> b.messageStrategy(MessageStrategy.INTERRUPT));
        Task t = m.create(TaskRequest.of("a", "long"));
        g.awaitEntered();
        awaitStatus(m, t.id(), TaskStatus.RUNNING);
        assertThat(m.sendMessage(t.id(), TaskMessage.text("now this"))).isEqualTo(SendResult.INTERRUPTED_TURN);
        Task done = awaitStatus(m, t.id(), TaskStatus.COMPLETED);
        assertThat(done.error()).isNull();
        assertThat(awaitLatch(firstReturned)).isTrue();
        assertThat(sawCancel).as("the turn saw its interrupt").isTrue();
        assertThat(seen).containsExactly("1:long", "2:now this");
        assertThat(statuses(t.id())).containsExactly("pending", "running", "pending", "running", "completed");
        assertThat(ofType(t.id(), MessageStrategies.INTERRUPTED)).singleElement().satisfies(e ->
                assertThat(e.data()).containsEntry("turn", 1L).containsEntry("reason", "interrupted by a new message"));
        assertThat(events(t.id()).get(events(t.id()).size() - 1).data()).containsEntry("result", Map.of("answer", "now this"));
        await(() -> m.stats().runningTurns() == 0);
    }

    @Test
    void anInterruptedTurnIgnoringItsInterruptKeepsItsSlotUntilItReturns() {
        Harness.Gate stubborn = gate();
        gated(Map.of("stubborn", stubborn));
        Engine m = start(b -> b.maxConcurrentTasks(1).cancelGrace(Duration.ofHours(1)));
        Task t = m.create(TaskRequest.of("a", "stubborn"));
        stubborn.awaitEntered();
        assertThat(m.sendMessage(t.id(), TaskMessage.text("next"), SendOptions.strategy(MessageStrategy.INTERRUPT)))
                .isEqualTo(SendResult.INTERRUPTED_TURN);
        assertThat(m.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.PENDING);
        assertThat(m.stats().runningTurns()).as("the old thread still holds the only slot").isEqualTo(1);
        assertThat(seen).containsExactly("1:stubborn");
        stubborn.open();
        awaitStatus(m, t.id(), TaskStatus.COMPLETED);
        assertThat(seen).containsExactly("1:stubborn", "2:next");
        await(() -> m.stats().runningTurns() == 0);
    }

    @Test
    void interruptOnAQueuedTaskQueuesTheMessage() {
        Harness.Gate g = gate();
        gated(Map.of("block", g));
        Engine m = start(b -> b.maxConcurrentTasks(1));
        Task blocker = m.create(TaskRequest.of("a", "block"));
        g.awaitEntered();
        Task queued = m.create(TaskRequest.of("a", "first"));
        assertThat(m.sendMessage(queued.id(), TaskMessage.text("second"), SendOptions.strategy(MessageStrategy.INTERRUPT)))
                .isEqualTo(SendResult.QUEUED);
        g.open();
        awaitStatus(m, blocker.id(), TaskStatus.COMPLETED);
        awaitStatus(m, queued.id(), TaskStatus.COMPLETED);
        assertThat(seen).containsExactly("1:block", "1:first", "2:second");
        assertThat(ofType(queued.id(), MessageStrategies.INTERRUPTED)).isEmpty();
    }

    /** The turn's end and the message race: either order leaves a consistent log and runs the message once. */
    @Test
    void rejectRacingTheTurnEnd() throws Exception {
        runner.script = (t, c) -> {
            seen.add(t.number() + ":" + t.message().text());
            return t.number() == 1 ? TurnResult.awaitingInput(Map.of("question", "?")) : TurnResult.completed();
        };
        Engine m = start(b -> b);
        int rejected = 0;
        for (int i = 0; i < 40; i++) {
            Task t = m.create(TaskRequest.of("a", "q" + i));
            SendResult r;
            try {
                r = m.sendMessage(t.id(), TaskMessage.text("a" + i), SendOptions.strategy(MessageStrategy.REJECT));
            } catch (TaskBusyException e) {
                rejected++;
                awaitStatus(m, t.id(), TaskStatus.WAITING_FOR_INPUT);
                assertThat(store.data.pendingMessages(t.id())).isEmpty();
                assertThat(ofType(t.id(), Engine.USER_MESSAGE)).hasSize(1);
                continue;
            }
            assertThat(r).isEqualTo(SendResult.STARTED_TURN);
            awaitStatus(m, t.id(), TaskStatus.COMPLETED);
            assertThat(seen).contains("2:a" + i);
        }
        assertThat(rejected).isBetween(0, 40);
        assertThat(seen.stream().filter(s -> s.startsWith("2:")).count()).isEqualTo(40 - rejected);
    }

    @Test
    void interruptRacingTheTurnEnd() throws Exception {
        runner.script = (t, c) -> {
            seen.add(t.number() + ":" + t.message().text());
            return t.number() == 1 ? TurnResult.awaitingInput(Map.of("question", "?")) : TurnResult.completed();
        };
        Engine m = start(b -> b.messageStrategy(MessageStrategy.INTERRUPT));
        for (int i = 0; i < 40; i++) {
            Task t = m.create(TaskRequest.of("a", "q" + i));
            SendResult r = m.sendMessage(t.id(), TaskMessage.text("a" + i));
            assertThat(r).isIn(SendResult.INTERRUPTED_TURN, SendResult.STARTED_TURN, SendResult.QUEUED);
            awaitStatus(m, t.id(), TaskStatus.COMPLETED);
            List<String> st = statuses(t.id());
            assertThat(st).doesNotContain("cancelled", "failed");
            assertThat(ofType(t.id(), MessageStrategies.INTERRUPTED)).hasSize(r == SendResult.INTERRUPTED_TURN ? 1 : 0);
            assertThat(seen).contains("2:a" + i);
            assertThat(ofType(t.id(), Engine.USER_MESSAGE)).extracting(e -> e.data().get("text")).containsExactly("q" + i, "a" + i);
        }
        await(() -> m.stats().runningTurns() == 0);
    }

    /** The next turn was begun in the old turn's slot but not launched when the interrupt came (cf. defect 2). */
    @Test
    void interruptBetweenTwoTurnsInOneSlot() throws Exception {
        Harness.Gate g = gate();
        gated(Map.of("first", g));
        Engine m = start(b -> b.maxConcurrentTasks(1));
        Task t = m.create(TaskRequest.of("a", "first"));
        g.awaitEntered();
        assertThat(m.sendMessage(t.id(), TaskMessage.text("queued"))).isEqualTo(SendResult.QUEUED);
        CountDownLatch hooked = new CountDownLatch(1);
        List<SendResult> results = new CopyOnWriteArrayList<>();
        m.hooks = new EngineHooks() {
            @Override
            public void betweenTurns(TaskState s) {
                if (hooked.getCount() > 0) {
                    results.add(m.sendMessage(t.id(), TaskMessage.text("urgent"), SendOptions.strategy(MessageStrategy.INTERRUPT)));
                    hooked.countDown();
                }
            }
        };
        g.open();
        assertThat(awaitLatch(hooked)).isTrue();
        awaitStatus(m, t.id(), TaskStatus.COMPLETED);
        assertThat(results).containsExactly(SendResult.INTERRUPTED_TURN);
        assertThat(seen).as("turn 2 was interrupted before it ran").containsExactly("1:first", "3:urgent");
        assertThat(ofType(t.id(), MessageStrategies.INTERRUPTED)).singleElement()
                .satisfies(e -> assertThat(e.data()).containsEntry("turn", 2L));
        await(() -> m.stats().runningTurns() == 0);
        Task other = m.create(TaskRequest.of("a", "after"));
        awaitStatus(m, other.id(), TaskStatus.COMPLETED); // the one slot is free again
    }

    private static boolean awaitLatch(CountDownLatch l) throws InterruptedException {
        return l.await(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }
}
