package dev.agenttasks.testkit.engine;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Races between the engine's paths, and subscribers that misbehave. */
class ConcurrencyStressTest extends EngineTestBase {

    @Test
    void deletingATaskMidStreamNeverHurtsTheTasksWritingBesideIt() {
        // two agents emit as fast as they can, so their events share the writer's batches
        runner.script("coder", ScriptedAgentRunner.steps().then((turn, ctx) -> {
            for (int i = 0; i < 100_000 && !ctx.isCancelled(); i++) {
                ctx.emit("n", Map.of("i", i));
            }
        }).thenComplete());
        runner.script("helper", ScriptedAgentRunner.steps().emitMany(3_000, "n", i -> Map.of("i", i)).thenComplete());
        start(b -> b.maxConcurrentTasks(8));
        for (int round = 0; round < 10; round++) {
            Task doomed = manager.create(TaskRequest.of("coder", "doomed " + round));
            Task bystander = manager.create(TaskRequest.of("helper", "bystander " + round));
            runner.awaitTurnStarted(doomed.id(), 1, WAIT);
            assertThat(manager.delete(doomed.id())).isTrue();
            List<TaskEvent> log = events(bystander.id());
            EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
            assertThat(ofTypes(log, "n")).hasSize(3_000);
            assertThat(manager.get(doomed.id())).isEmpty();
            assertThat(data.task(doomed.id())).isEmpty();
            assertThat(storedEvents(doomed.id())).isEmpty();
        }
    }

    @Test
    void cancelRacingWithATightEmitLoopLeavesTheTerminalEventLast() {
        runner.script("coder", ScriptedAgentRunner.steps().then((turn, ctx) -> {
            // emits until cancelled, then swallows the interrupt and keeps emitting for a while
            int after = 0;
            for (int i = 0; i < 2_000_000 && after < 2_000; i++) {
                if (ctx.isCancelled()) {
                    after++;
                }
                Thread.interrupted();
                ctx.emit("n", Map.of("i", i));
            }
        }).thenComplete());
        start(b -> b.maxConcurrentTasks(4).cancelGrace(Duration.ofMillis(100)));
        for (int round = 0; round < 20; round++) {
            Task t = manager.create(TaskRequest.of("coder", "spinner " + round));
            runner.awaitTurnStarted(t.id(), 1, WAIT);
            assertThat(manager.cancel(t.id())).isTrue();
            List<TaskEvent> log = events(t.id());
            EventLogs.assertCompleteLog(log, TaskStatus.CANCELLED);
            runner.awaitTurnFinished(t.id(), 1, WAIT);
            assertThat(storedEvents(t.id())).isEqualTo(log);
        }
    }

    @Test
    void manyThreadsCreatingAtOnceGetDistinctTasksThatAllRun() throws Exception {
        runner.script("coder", ScriptedAgentRunner.steps().emit("n", Map.of()).thenComplete());
        start(b -> b.maxConcurrentTasks(8));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<List<String>>> futures = new ArrayList<>();
            for (int th = 0; th < 8; th++) {
                int thread = th;
                futures.add(pool.submit(() -> {
                    go.await();
                    List<String> ids = new ArrayList<>();
                    for (int i = 0; i < 50; i++) {
                        ids.add(manager.create(TaskRequest.of("coder", "t" + thread + "-" + i)).id());
                    }
                    return ids;
                }));
            }
            go.countDown();
            Set<String> all = ConcurrentHashMap.newKeySet();
            for (Future<List<String>> f : futures) {
                all.addAll(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(all).hasSize(400);
            for (String id : all) {
                EventLogs.assertCompleteLog(events(id), TaskStatus.COMPLETED);
            }
            assertThat(manager.countByStatus().get(TaskStatus.COMPLETED)).isEqualTo(400);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void requestsFromManyThreadsAtOnceStillGetSerialSignals() throws Exception {
        runner.script("coder", ScriptedAgentRunner.steps().emitMany(4_000, "n", i -> Map.of("i", i)).thenComplete());
        start(b -> b.liveTailSize(64).pageSize(16));
        Task t = manager.create(TaskRequest.of("coder", "many requesters"));
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.create();
        manager.events(t.id()).subscribe(sub);
        sub.awaitSubscription(WAIT);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int th = 0; th < 4; th++) {
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 1_500; i++) {
                        sub.request(1);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        List<TaskEvent> all = sub.awaitCompletion(WAIT);
        sub.assertNoViolations();
        EventLogs.assertCompleteLog(all, TaskStatus.COMPLETED);
    }

    @Test
    void aSubscriberThatThrowsDoesNotBreakDeliveryToOthers() {
        runner.script("coder", ScriptedAgentRunner.steps().emitMany(500, "n", i -> Map.of("i", i)).thenComplete());
        start(b -> b.deliveryThreads(1));
        Task t = manager.create(TaskRequest.of("coder", "thrower"));
        Flow.Subscriber<TaskEvent> thrower = new Flow.Subscriber<>() {
            @Override
            public void onSubscribe(Flow.Subscription s) {
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(TaskEvent item) {
                throw new IllegalStateException("subscriber bug (rule 2.13 breach)");
            }

            @Override
            public void onError(Throwable throwable) {
            }

            @Override
            public void onComplete() {
            }
        };
        manager.events(t.id()).subscribe(thrower);
        RecordingSubscriber<TaskEvent> good = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(good);
        EventLogs.assertCompleteLog(good.awaitCompletion(WAIT), TaskStatus.COMPLETED);
        // the single delivery thread survived
        Task next = manager.create(TaskRequest.of("coder", "after the thrower"));
        EventLogs.assertCompleteLog(events(next.id()), TaskStatus.COMPLETED);
    }

    @Test
    void aSubscriberBlockedInOnNextHoldsBackNeitherTheAgentNorOtherSubscribers() {
        runner.script("coder", ScriptedAgentRunner.steps().emitMany(2_000, "n", i -> Map.of("i", i)).thenComplete());
        start(b -> b.deliveryThreads(2).liveTailSize(64).pageSize(16));
        Gate unblock = gate();
        Task t = manager.create(TaskRequest.of("coder", "blocked subscriber"));
        RecordingSubscriber<TaskEvent> blocked = RecordingSubscriber.<TaskEvent>unbounded().onItem(e -> {
            try {
                unblock.awaitRelease(Duration.ofSeconds(30));
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
        });
        manager.events(t.id()).subscribe(blocked);
        RecordingSubscriber<TaskEvent> free = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(free);
        EventLogs.assertCompleteLog(free.awaitCompletion(WAIT), TaskStatus.COMPLETED);
        awaitStatus(t.id(), TaskStatus.COMPLETED);
        assertThat(blocked.itemCount()).isEqualTo(1);
        unblock.release();
        EventLogs.assertCompleteLog(blocked.awaitCompletion(WAIT), TaskStatus.COMPLETED);
        assertThat(manager.stats().peakSubscriptionBuffer()).isLessThanOrEqualTo(16);
    }
}
