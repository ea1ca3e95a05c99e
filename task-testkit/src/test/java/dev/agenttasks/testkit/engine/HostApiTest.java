package dev.agenttasks.testkit.engine;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The host-facing paper cuts of issue 7, part 4: a task's last seq, awaiting its end without a subscriber,
 * {@code TurnResult} factories taking any JSON map.
 */
class HostApiTest extends EngineTestBase {

    @BeforeEach
    void startManager() {
        start();
    }

    private static long lastStoredSeq(List<TaskEvent> events) {
        return events.get(events.size() - 1).seq();
    }

    @Nested
    class LastSeq {

        @Test
        void snapshotsCarryTheSeqOfTheLastCommittedEvent() throws Exception {
            Gate gate = gate();
            runner.script("coder", ScriptedAgentRunner.steps()
                    .emitMany(5, "token", i -> Map.of("i", i)).await(gate).thenAskForInput(Map.of("q", "?")));
            Task created = manager.create(TaskRequest.of("coder", "hi"));
            runner.awaitTurnStarted(created.id(), 1, WAIT);
            gate.release();
            Task waiting = awaitStatus(created.id(), TaskStatus.WAITING_FOR_INPUT);

            List<TaskEvent> stored = storedEvents(created.id());
            assertThat(waiting.lastSeq()).isEqualTo(lastStoredSeq(stored));
            assertThat(stored.get(stored.size() - 1).type()).isEqualTo(TaskEvent.STATUS);
            assertThat(manager.list(TaskQuery.all()).tasks()).singleElement()
                    .satisfies(t -> assertThat(t.lastSeq()).isEqualTo(waiting.lastSeq()));

            // "up to now": replaying until lastSeq ends with the event that put the task in its status
            RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
            manager.events(created.id()).subscribe(sub);
            List<TaskEvent> replay = sub.awaitItems(waiting.lastSeq(), WAIT);
            sub.cancel();
            assertThat(replay).hasSize((int) waiting.lastSeq());
            assertThat(replay.get(replay.size() - 1).seq()).isEqualTo(waiting.lastSeq());
            assertThat(replay.get(replay.size() - 1).data().get("status")).isEqualTo("waiting_for_input");
        }

        @Test
        void aFinishedTaskReadFromTheStoreCarriesItToo() throws Exception {
            Task t = manager.create(TaskRequest.of("coder", "hi"));
            Task done = manager.whenFinished(t.id()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            long last = lastStoredSeq(storedEvents(t.id()));
            assertThat(done.lastSeq()).isEqualTo(last).isPositive();
            assertThat(data.task(t.id()).orElseThrow().task().lastSeq()).isEqualTo(last);
            manager.close();
            start();
            assertThat(manager.get(t.id()).orElseThrow().lastSeq()).isEqualTo(last);
        }
    }

    @Nested
    class WhenFinished {

        @Test
        void completesWithTheFinalSnapshotWhenTheTaskEnds() throws Exception {
            Gate gate = gate();
            runner.script("coder", ScriptedAgentRunner.steps().emit("token", Map.of("t", "a")).await(gate)
                    .thenComplete(Map.of("answer", 42)));
            Task t = manager.create(TaskRequest.of("coder", "hi"));
            runner.awaitTurnStarted(t.id(), 1, WAIT);
            CompletableFuture<Task> end = manager.whenFinished(t.id());
            assertThat(end).isNotDone();
            gate.release();
            Task done = end.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(done.status()).isEqualTo(TaskStatus.COMPLETED);
            assertThat(done.completedAt()).isNotNull();
            List<TaskEvent> stored = storedEvents(t.id());
            assertThat(done.lastSeq()).isEqualTo(lastStoredSeq(stored));
            assertThat(stored.get(stored.size() - 1).data().get("status")).isEqualTo("completed");
            assertThat(manager.stats().openSubscriptions()).isZero();
        }

        @Test
        void aFinishedTaskGivesACompletedFutureAtOnce() {
            Task t = manager.create(TaskRequest.of("coder", "hi"));
            awaitTerminal(t.id());
            CompletableFuture<Task> end = manager.whenFinished(t.id());
            assertThat(end).isCompleted();
            assertThat(end.join().status()).isEqualTo(TaskStatus.COMPLETED);
        }

        @Test
        void aCancelledTaskEndsCancelled() throws Exception {
            Gate gate = gate();
            runner.script("coder", ScriptedAgentRunner.steps().awaitOrCancelled(gate).thenComplete());
            Task t = manager.create(TaskRequest.of("coder", "hi"));
            runner.awaitTurnStarted(t.id(), 1, WAIT);
            CompletableFuture<Task> end = manager.whenFinished(t.id());
            manager.cancel(t.id());
            assertThat(end.get(WAIT.toSeconds(), TimeUnit.SECONDS).status()).isEqualTo(TaskStatus.CANCELLED);
        }

        @Test
        void aDeletedTaskFailsTheFuture() {
            runner.script("coder", ScriptedAgentRunner.steps().thenAskForInput(Map.of("q", "?")));
            Task t = manager.create(TaskRequest.of("coder", "hi"));
            awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT);
            CompletableFuture<Task> end = manager.whenFinished(t.id());
            manager.delete(t.id());
            assertThatThrownBy(() -> end.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(TaskDeletedException.class);
        }

        @Test
        void closingTheManagerFailsTheFuture() {
            runner.script("coder", ScriptedAgentRunner.steps().thenAskForInput(Map.of("q", "?")));
            Task t = manager.create(TaskRequest.of("coder", "hi"));
            awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT);
            CompletableFuture<Task> end = manager.whenFinished(t.id());
            manager.close();
            assertThatThrownBy(() -> end.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(ManagerClosedException.class);
        }

        @Test
        void cancellingTheFutureStopsFollowingButNotTheTask() {
            runner.script("coder", ScriptedAgentRunner.steps().thenAskForInput(Map.of("q", "?")));
            Task t = manager.create(TaskRequest.of("coder", "hi"));
            awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT);
            CompletableFuture<Task> end = manager.whenFinished(t.id());
            org.awaitility.Awaitility.await().atMost(WAIT).until(() -> manager.stats().openSubscriptions() == 1);
            end.cancel(false);
            org.awaitility.Awaitility.await().atMost(WAIT).until(() -> manager.stats().openSubscriptions() == 0);
            assertThat(manager.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        }

        @Test
        void unknownAndBlankIds() {
            assertThatThrownBy(() -> manager.whenFinished("task_nobody")).isInstanceOf(NoSuchTaskException.class);
            assertThatThrownBy(() -> manager.whenFinished(" ")).isInstanceOfSatisfying(InvalidRequestException.class,
                    e -> assertThat(e.field()).isEqualTo("task_id"));
        }
    }

    @Nested
    class TurnResultFactories {

        @Test
        void acceptMapsOfAnyValueType() throws Exception {
            Map<String, String> result = Map.of("answer", "forty-two");
            Map<String, Integer> question = Map.of("pick", 3);
            runner.script("coder", 1, (turn, ctx) -> TurnResult.awaitingInput(question));
            runner.script("coder", 2, (turn, ctx) -> TurnResult.completed(result));
            Task t = manager.create(TaskRequest.of("coder", "hi"));
            awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT);
            manager.sendMessage(t.id(), TaskMessage.text("three"));
            Task done = manager.whenFinished(t.id()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(done.status()).isEqualTo(TaskStatus.COMPLETED);
            List<TaskEvent> statuses = ofTypes(storedEvents(t.id()), TaskEvent.STATUS);
            assertThat(statuses.get(statuses.size() - 1).data()).containsEntry("result", Map.of("answer", "forty-two"));
            assertThat(statuses).anySatisfy(e -> assertThat(e.data()).containsEntry("question", Map.of("pick", 3L)));
        }

        @Test
        void nullDataIsEmpty() {
            assertThat(TurnResult.completed(null).data()).isEmpty();
            assertThat(TurnResult.awaitingInput(null).data()).isEmpty();
        }
    }
}
