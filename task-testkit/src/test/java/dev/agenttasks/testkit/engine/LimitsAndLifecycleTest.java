package dev.agenttasks.testkit.engine;

import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import dev.agenttasks.testkit.ScriptedAgentRunner.TurnOutcome;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Limits, listeners, close and recovery (issue 2, points 7 and 8). */
class LimitsAndLifecycleTest extends EngineTestBase {

    @Nested
    class Timeouts {

        @Test
        void aTurnOverItsRequestTimeoutFailsTheTask() {
            Gate never = gate();
            runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("text", "started")).await(never)
                    .thenComplete());
            start();
            Task t = manager.create(TaskRequest.builder("coder").text("slow").timeout(Duration.ofMillis(200)).build());
            List<TaskEvent> log = events(t.id());
            EventLogs.assertCompleteLog(log, TaskStatus.FAILED);
            Task failed = manager.get(t.id()).orElseThrow();
            assertThat(failed.status()).isEqualTo(TaskStatus.FAILED);
            assertThat(failed.error()).containsIgnoringCase("time");
            TurnOutcome outcome = runner.awaitTurnFinished(t.id(), 1, WAIT);
            assertThat(outcome.interrupted() || outcome.cancelledFlag()).isTrue();
        }

        @Test
        void theManagerDefaultTimeoutAppliesUnlessTheRequestSetsOne() {
            Gate release = gate();
            runner.script("coder", ScriptedAgentRunner.steps().await(release).thenComplete());
            start(b -> b.defaultTimeout(Duration.ofMillis(200)));
            Task withDefault = manager.create(TaskRequest.of("coder", "default timeout"));
            Task withOwn = manager.create(TaskRequest.builder("coder").text("own timeout")
                    .timeout(Duration.ofSeconds(60)).build());
            Task failed = awaitStatus(withDefault.id(), TaskStatus.FAILED);
            assertThat(failed.error()).containsIgnoringCase("time");
            // reads show committed state, which may trail the turn's start on a loaded machine: await it
            awaitStatus(withOwn.id(), TaskStatus.RUNNING);
            assertThat(runner.turns(withOwn.id())).hasSize(1);
            release.release();
            awaitStatus(withOwn.id(), TaskStatus.COMPLETED);
        }

        @Test
        void aTimedOutRunnerThatIgnoresInterruptsStillEndsFailed() {
            Gate stuck = gate();
            runner.script("coder", ScriptedAgentRunner.steps().awaitIgnoringInterrupts(stuck)
                    .then((turn, ctx) -> Thread.interrupted())
                    .emit("text", Map.of("text", "late")).thenComplete());
            start(b -> b.cancelGrace(Duration.ofMillis(200)));
            Task t = manager.create(TaskRequest.builder("coder").text("stuck").timeout(Duration.ofMillis(200)).build());
            List<TaskEvent> log = events(t.id());
            EventLogs.assertCompleteLog(log, TaskStatus.FAILED);
            stuck.release();
            runner.awaitTurnFinished(t.id(), 1, WAIT);
            assertThat(storedEvents(t.id())).isEqualTo(log);
            assertThat(manager.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.FAILED);
        }
    }

    @Nested
    class Concurrency {

        @Test
        void neverMoreTurnsThanTheLimitAndQueuedTasksStartInCreationOrder() {
            AtomicInteger inFlight = new AtomicInteger();
            AtomicInteger peak = new AtomicInteger();
            List<Gate> gates = new ArrayList<>();
            Map<String, Gate> byText = new ConcurrentHashMap<>();
            for (int i = 0; i < 10; i++) {
                Gate g = gate();
                gates.add(g);
                byText.put("job " + i, g);
            }
            runner.script("coder", ScriptedAgentRunner.steps().then((turn, ctx) -> {
                peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            }).then((turn, ctx) -> {
                try {
                    ScriptedAgentRunner.steps().await(byText.get(turn.message().text())).run(turn, ctx);
                } finally {
                    inFlight.decrementAndGet();
                }
            }).thenComplete());
            start(b -> b.maxConcurrentTasks(3));
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                ids.add(manager.create(TaskRequest.of("coder", "job " + i)).id());
            }
            runner.awaitTurnsStarted(3, WAIT);
            // the RUNNING commits may trail the turns' start: await them, then the queue holds the other seven
            Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(5))
                    .until(() -> manager.countByStatus().getOrDefault(TaskStatus.RUNNING, 0L) == 3L);
            assertThat(manager.countByStatus().get(TaskStatus.PENDING)).isEqualTo(7);
            assertThat(runner.turns()).hasSize(3);
            for (int i = 0; i < 10; i++) {
                gates.get(i).release();
                awaitStatus(ids.get(i), TaskStatus.COMPLETED);
            }
            assertThat(peak.get()).isLessThanOrEqualTo(3);
            List<String> order = runner.turns().stream().map(Turn::taskId).toList();
            assertThat(order.subList(0, 3)).containsExactlyInAnyOrderElementsOf(ids.subList(0, 3));
            assertThat(order.subList(3, 10)).containsExactlyElementsOf(ids.subList(3, 10));
            assertThat(manager.runningCount()).isZero();
        }
    }

    @Nested
    class Listeners {

        @Test
        void failingListenersNeverBreakTheEngine() {
            AtomicInteger calls = new AtomicInteger();
            List<String> seenByTheSecond = new ArrayList<>();
            TaskListener throwing = new TaskListener() {
                @Override
                public void taskCreated(Task task) {
                    calls.incrementAndGet();
                    throw new IllegalStateException("listener boom");
                }

                @Override
                public void turnStarted(Task task, int turn) {
                    calls.incrementAndGet();
                    throw new IllegalStateException("listener boom");
                }

                @Override
                public void statusChanged(Task task, TaskStatus from) {
                    calls.incrementAndGet();
                    throw new IllegalStateException("listener boom");
                }

                @Override
                public void taskFinished(Task task) {
                    calls.incrementAndGet();
                    throw new IllegalStateException("listener boom");
                }

                @Override
                public void eventAppended(TaskEvent event) {
                    calls.incrementAndGet();
                    throw new IllegalStateException("listener boom");
                }
            };
            TaskListener recording = new TaskListener() {
                @Override
                public synchronized void taskFinished(Task task) {
                    seenByTheSecond.add(task.id());
                }
            };
            runner.script("coder", 1, ScriptedAgentRunner.steps().emit("text", Map.of("text", "a"))
                    .thenAskForInput(Map.of("question", "?")));
            runner.script("coder", 2, ScriptedAgentRunner.steps().emit("text", Map.of("text", "b")).thenComplete());
            start(b -> b.listener(throwing).listener(recording));
            Task t = manager.create(TaskRequest.of("coder", "listened"));
            awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT);
            manager.sendMessage(t.id(), TaskMessage.text("go on"));
            List<TaskEvent> log = events(t.id());
            EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
            assertThat(ofTypes(log, "text")).hasSize(2);
            Awaitility.await().atMost(WAIT).until(() -> {
                synchronized (recording) {
                    return seenByTheSecond.contains(t.id());
                }
            });
            assertThat(calls.get()).isGreaterThanOrEqualTo(5);
            // and the manager still works
            Task second = manager.create(TaskRequest.of("coder", "again"));
            awaitStatus(second.id(), TaskStatus.WAITING_FOR_INPUT);
        }
    }

    @Nested
    class Close {

        /**
         * Runs {@code close()} on a thread of its own: the common pool may have a single worker (JDK 25 on
         * two CPUs), which anything else in the JVM can hold.
         */
        private final ExecutorService closer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "test-closer");
            t.setDaemon(true);
            return t;
        });

        @AfterEach
        void stopCloser() {
            closer.shutdownNow();
        }

        @Test
        void afterCloseEveryStateChangingCallThrowsAndCloseIsIdempotent() {
            start();
            Task t = manager.create(TaskRequest.of("coder", "before close"));
            events(t.id());
            manager.close();
            manager.close();
            assertThatThrownBy(() -> manager.create(TaskRequest.of("coder", "after"))).isInstanceOf(ManagerClosedException.class);
            assertThatThrownBy(() -> manager.sendMessage(t.id(), TaskMessage.text("x")))
                    .isInstanceOf(ManagerClosedException.class);
            assertThatThrownBy(() -> manager.cancel(t.id())).isInstanceOf(ManagerClosedException.class);
            assertThatThrownBy(() -> manager.delete(t.id())).isInstanceOf(ManagerClosedException.class);
            assertThat(storeHandle.isClosed()).as("the manager closed its store").isTrue();
            assertThat(data.task(t.id())).isPresent();
        }

        @Test
        void closeLetsRunningTurnsFinishWithinTheShutdownTimeout() throws Exception {
            Gate gate = gate();
            runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("text", "working")).await(gate)
                    .emit("text", Map.of("text", "finishing")).thenComplete());
            start(b -> b.shutdownTimeout(Duration.ofSeconds(30)));
            Task t = manager.create(TaskRequest.of("coder", "finish me"));
            gate.awaitReached(WAIT);
            CompletableFuture<Void> closing = CompletableFuture.runAsync(manager::close, closer);
            // probe with a call that writes nothing while the manager is open (a create would add a task
            // whenever close had not begun yet, as on a loaded machine)
            Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(() -> {
                try {
                    manager.cancel("task_no_such_probe");
                    return false;
                } catch (NoSuchTaskException e) {
                    return false;
                } catch (ManagerClosedException e) {
                    return true;
                }
            });
            assertThat(closing).isNotDone();
            gate.release();
            closing.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            TaskRecord stored = data.task(t.id()).orElseThrow();
            assertThat(stored.task().status()).isEqualTo(TaskStatus.COMPLETED);
            List<TaskEvent> log = storedEvents(t.id());
            EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
            assertThat(ofTypes(log, "text")).extracting(e -> e.data().get("text")).containsExactly("working", "finishing");
            assertThat(data.list(dev.agenttasks.TaskQuery.all(), null, 100)).hasSize(1);
        }

        @Test
        void closeInterruptsTurnsStillRunningAfterTheTimeoutLeavesThemRunningAndFlushesTheirEvents() {
            Gate never = gate();
            runner.script("coder", ScriptedAgentRunner.steps().emitMany(500, "n", i -> Map.of("i", i)).await(never)
                    .thenComplete());
            start(b -> b.shutdownTimeout(Duration.ofMillis(100)));
            Task t = manager.create(TaskRequest.of("coder", "interrupted by close"));
            never.awaitReached(WAIT);
            manager.close();
            TurnOutcome outcome = runner.awaitTurnFinished(t.id(), 1, WAIT);
            assertThat(outcome.interrupted()).isTrue();
            assertThat(data.task(t.id()).orElseThrow().task().status()).isEqualTo(TaskStatus.RUNNING);
            List<TaskEvent> log = storedEvents(t.id());
            EventLogs.assertGapless(log, 0);
            assertThat(ofTypes(log, "n")).hasSize(500);
        }

        @Test
        void closeReturnsEvenWhenARunnerIgnoresInterrupts() throws Exception {
            Gate stuck = gate();
            runner.script("coder", ScriptedAgentRunner.steps().awaitIgnoringInterrupts(stuck).thenComplete());
            start(b -> b.shutdownTimeout(Duration.ofMillis(100)).cancelGrace(Duration.ofMillis(100)));
            Task t = manager.create(TaskRequest.of("coder", "stubborn"));
            stuck.awaitReached(WAIT);
            CompletableFuture<Void> closing = CompletableFuture.runAsync(manager::close, closer);
            closing.get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(data.task(t.id()).orElseThrow().task().status()).isEqualTo(TaskStatus.RUNNING);
        }

        @Test
        void openSubscriptionsDoNotKeepCloseFromReturning() throws Exception {
            Gate never = gate();
            runner.script("coder", ScriptedAgentRunner.steps().await(never).thenComplete());
            start();
            Task t = manager.create(TaskRequest.of("coder", "watched"));
            RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
            manager.events(t.id()).subscribe(sub);
            sub.awaitItems(1, WAIT);
            CompletableFuture.runAsync(manager::close, closer).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            sub.assertNoViolations();
        }
    }

    @Nested
    class Recovery {

        private final Instant t0 = Instant.parse("2026-01-01T00:00:00Z");

        private void seed(String id, String agentId, TaskStatus status, String sessionId, TaskStatus... history) {
            Task task = new Task(id, agentId, sessionId, status, "seeded " + id, null, t0,
                    status == TaskStatus.PENDING ? null : t0.plusMillis(1), null, null, null, Map.of());
            List<StoreOp> ops = new ArrayList<>();
            ops.add(new StoreOp.InsertTask(new TaskRecord(task, Map.of(), 0, "dead-host", t0.plusSeconds(30), 0)));
            long seq = 0;
            for (TaskStatus s : history) {
                ops.add(new StoreOp.AppendEvent(new TaskEvent(id, ++seq, TaskEvent.STATUS,
                        Map.of("status", s.wireName()), t0.plusMillis(seq))));
                if (s == TaskStatus.RUNNING) {
                    ops.add(new StoreOp.AppendEvent(new TaskEvent(id, ++seq, "text", Map.of("text", "progress"),
                            t0.plusMillis(seq))));
                }
            }
            if (status == TaskStatus.PENDING) {
                ops.add(new StoreOp.AddMessage(new PendingMessage(id, id + "-m1", TaskMessage.text("first message"), t0)));
            }
            data.write(ops);
        }

        private void seedAll() {
            seed("task_pending", "coder", TaskStatus.PENDING, null, TaskStatus.PENDING);
            seed("task_running", "coder", TaskStatus.RUNNING, "s-run", TaskStatus.PENDING, TaskStatus.RUNNING);
            seed("task_waiting", "coder", TaskStatus.WAITING_FOR_INPUT, "s-wait", TaskStatus.PENDING,
                    TaskStatus.RUNNING, TaskStatus.WAITING_FOR_INPUT);
        }

        @Test
        void byDefaultInterruptedTasksFailQueuedTasksRunAndWaitingTasksKeepWaiting() {
            seedAll();
            start();
            // PENDING means queued, no turn was running: it is queued again whatever the policy
            EventLogs.assertCompleteLog(events("task_pending"), TaskStatus.COMPLETED);
            assertThat(runner.turns("task_pending")).extracting(turn -> turn.message().text())
                    .containsExactly("first message");
            for (String id : List.of("task_running")) {
                Task t = manager.get(id).orElseThrow();
                assertThat(t.status()).as(id).isEqualTo(TaskStatus.FAILED);
                assertThat(t.error()).as(id).isEqualTo(RecoveryPolicy.INTERRUPTED);
                assertThat(t.completedAt()).as(id).isNotNull();
                EventLogs.assertCompleteLog(events(id), TaskStatus.FAILED);
            }
            assertThat(runner.turns()).extracting(Turn::taskId).containsExactly("task_pending");
            assertThat(manager.get("task_waiting").orElseThrow().status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
            assertThat(manager.runningCount()).isEqualTo(1);

            manager.sendMessage("task_waiting", TaskMessage.text("answer"));
            List<TaskEvent> log = events("task_waiting");
            EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
            Turn turn = runner.turns("task_waiting").get(0);
            assertThat(turn.sessionId()).isEqualTo("s-wait");
            assertThat(turn.message().text()).isEqualTo("answer");
        }

        @Test
        void theResumePolicyRunsInterruptedTasksAgain() {
            seedAll();
            runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("text", "again")).thenComplete());
            start(b -> b.recoveryPolicy(RecoveryPolicy.resume()));
            EventLogs.assertCompleteLog(events("task_running"), TaskStatus.COMPLETED);
            EventLogs.assertCompleteLog(events("task_pending"), TaskStatus.COMPLETED);
            Turn resumed = runner.turns("task_running").get(0);
            assertThat(resumed.resumed()).isTrue();
            assertThat(resumed.sessionId()).isEqualTo("s-run");
            Turn fresh = runner.turns("task_pending").get(0);
            assertThat(fresh.resumed()).isFalse();
            assertThat(fresh.message().text()).isEqualTo("first message");
            assertThat(manager.get("task_waiting").orElseThrow().status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        }

        @Test
        void aFollowUpQueuedBeforeTheHostStoppedIsDeliveredAfterTheResumedTurn() {
            Gate stuck = gate();
            runner.scriptWhen(turn -> turn.number() == 1 && !turn.resumed(),
                    ScriptedAgentRunner.steps().sessionId("s-q").await(stuck).thenComplete());
            start(b -> b.shutdownTimeout(Duration.ofMillis(100)));
            Task t = manager.create(TaskRequest.of("coder", "long job"));
            stuck.awaitReached(WAIT);
            assertThat(manager.sendMessage(t.id(), TaskMessage.text("queued before the crash")))
                    .isEqualTo(dev.agenttasks.SendResult.QUEUED);
            manager.close();
            runner.awaitTurnFinished(t.id(), 1, WAIT);
            assertThat(data.task(t.id()).orElseThrow().task().status()).isEqualTo(TaskStatus.RUNNING);

            start(b -> b.recoveryPolicy(RecoveryPolicy.resume()));
            List<TaskEvent> log = events(t.id());
            EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
            List<Turn> after = runner.turns(t.id()).subList(1, runner.turns(t.id()).size());
            // RecoveryPolicy.RESUME: "a RUNNING task gets a turn with resumed() set and its saved session id";
            // the queued message then runs as a further turn, or rides along on the resumed turn
            assertThat(after).isNotEmpty();
            assertThat(after.get(0).resumed()).as("the first turn after the restart is a resume: %s", after).isTrue();
            assertThat(after).allSatisfy(turn -> assertThat(turn.sessionId()).isEqualTo("s-q"));
            assertThat(after).filteredOn(turn -> turn.message() != null)
                    .extracting(turn -> turn.message().text()).containsExactly("queued before the crash");
            assertThat(data.pendingMessages(t.id())).isEmpty();
        }

        @Test
        void aCustomPolicyDecidesPerTask() {
            seed("task_a", "coder", TaskStatus.RUNNING, "s-a", TaskStatus.PENDING, TaskStatus.RUNNING);
            seed("task_b", "helper", TaskStatus.RUNNING, "s-b", TaskStatus.PENDING, TaskStatus.RUNNING);
            start(b -> b.recoveryPolicy(task -> task.agentId().equals("helper")
                    ? RecoveryPolicy.Action.RESUME : RecoveryPolicy.Action.FAIL));
            assertThat(manager.get("task_a").orElseThrow().status()).isEqualTo(TaskStatus.FAILED);
            EventLogs.assertCompleteLog(events("task_b"), TaskStatus.COMPLETED);
            assertThat(runner.turns()).extracting(Turn::taskId).containsExactly("task_b");
        }
    }
}
