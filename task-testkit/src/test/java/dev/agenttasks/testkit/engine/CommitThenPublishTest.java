package dev.agenttasks.testkit.engine;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.TaskStoreException;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Commit, then publish (design rule 2), and store failures while a task runs (design rule 7). */
class CommitThenPublishTest extends EngineTestBase {

    /** A store that can hold back or fail the batches that carry an event of a given type. */
    private static final class TrappingStore extends dev.agenttasks.spi.ForwardingTaskStore {
        private final TaskStore data;
        volatile String holdType;
        volatile String failType;
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        TrappingStore(TaskStore data) {
            super(data);
            this.data = data;
        }

        private boolean carries(List<StoreOp> ops, String type) {
            return type != null && ops.stream().anyMatch(op -> op instanceof StoreOp.AppendEvent a
                    && a.event().type().equals(type));
        }

        @Override
        public void write(List<StoreOp> ops) {
            if (carries(ops, failType)) {
                throw new TaskStoreException("disk full (simulated)");
            }
            if (carries(ops, holdType)) {
                held.countDown();
                try {
                    if (!release.await(30, TimeUnit.SECONDS)) {
                        throw new TaskStoreException("not released");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new TaskStoreException("interrupted", e);
                }
            }
            data.write(ops);
        }

        @Override
        public void close() {
            release.countDown();
        }
    }

    private TaskManager startOn(TaskStore store, TaskListener listener) {
        TaskManager m = TaskManager.builder().store(store).runner(runner).listener(listener)
                .cancelGrace(Duration.ofMillis(200)).shutdownTimeout(Duration.ofMillis(200)).build();
        manager = m;
        return m;
    }

    @Test
    void noSubscriberSeesAnEventBeforeTheStoreHasIt() throws Exception {
        TrappingStore store = new TrappingStore(data);
        store.holdType = "held";
        runner.script("coder", ScriptedAgentRunner.steps().emitMany(50, "n", i -> Map.of("i", i))
                .emit("held", Map.of("x", 1)).emitMany(50, "n", i -> Map.of("i", i)).thenComplete());
        try (TaskManager m = startOn(store, new TaskListener() { })) {
            List<String> problems = new CopyOnWriteArrayList<>();
            RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.<TaskEvent>unbounded().onItem(e -> {
                if (data.events(e.taskId(), e.seq() - 1, 1).isEmpty()) {
                    problems.add("seq " + e.seq() + " delivered before it was stored");
                }
            });
            Task t = m.create(TaskRequest.of("coder", "commit first"));
            m.events(t.id()).subscribe(sub);
            assertThat(store.held.await(15, TimeUnit.SECONDS)).isTrue();
            // while the batch with the held event waits in the store, nobody sees it or anything after it
            sub.awaitItems(1, WAIT);
            assertThat(sub.items()).noneMatch(e -> e.type().equals("held"));
            assertThat(sub.itemCount()).isLessThanOrEqualTo(data.task(t.id()).orElseThrow().lastSeq());
            store.release.countDown();
            List<TaskEvent> all = sub.awaitCompletion(WAIT);
            EventLogs.assertCompleteLog(all, TaskStatus.COMPLETED);
            assertThat(problems).isEmpty();
            sub.assertNoViolations();
        }
    }

    @Test
    void aStoreFailureWhileRunningFailsTheTaskWithTheCauseAndNeverShowsTheLostEvent() {
        TrappingStore store = new TrappingStore(data);
        store.failType = "poison";
        List<Throwable> storeFailures = new CopyOnWriteArrayList<>();
        runner.script("coder", ScriptedAgentRunner.steps().emit("text", Map.of("text", "ok"))
                .then((turn, ctx) -> {
                    try {
                        ctx.emit("poison", Map.of("x", 1));
                    } catch (RuntimeException acceptable) {
                        // an engine may report the failure to the emitter as well
                    }
                })
                .awaitOrCancelled(new ScriptedAgentRunner.Gate()).thenComplete());
        try (TaskManager m = startOn(store, new TaskListener() {
            @Override
            public void storeFailed(String taskId, Throwable error) {
                storeFailures.add(error);
            }
        })) {
            Task t = m.create(TaskRequest.of("coder", "doomed"));
            RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
            m.events(t.id()).subscribe(sub);
            sub.awaitTerminal(WAIT);
            org.awaitility.Awaitility.await().atMost(WAIT)
                    .until(() -> m.get(t.id()).map(x -> x.status() == TaskStatus.FAILED).orElse(false));
            Task failed = m.get(t.id()).orElseThrow();
            assertThat(failed.error()).contains("disk full");
            assertThat(sub.items()).noneMatch(e -> e.type().equals("poison"));
            if (sub.isCompleted()) {
                EventLogs.assertCompleteLog(sub.items(), TaskStatus.FAILED);
            }
            assertThat(data.events(t.id(), 0, 1000)).noneMatch(e -> e.type().equals("poison"));
            assertThat(storeFailures).isNotEmpty();
            sub.assertNoViolations();
        }
    }
}
