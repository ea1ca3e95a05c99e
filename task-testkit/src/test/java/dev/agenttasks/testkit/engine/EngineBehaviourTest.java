package dev.agenttasks.testkit.engine;

import dev.agenttasks.ManagerStats;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskPage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Further engine behaviour from the issue and DESIGN.md: ids, memory release, listeners, threads, paging. */
class EngineBehaviourTest extends EngineTestBase {

    @Test
    void idsAreUniqueOpaqueAndUrlSafe() {
        start(b -> b.maxConcurrentTasks(16));
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            String id = manager.create(TaskRequest.of("coder", "id " + i)).id();
            assertThat(id).matches("[A-Za-z0-9_-]+");
            ids.add(id);
        }
        assertThat(ids).hasSize(500);
    }

    @Test
    void finishedTasksAndEndedSubscriptionsReleaseTheirMemory() {
        runner.script("coder", ScriptedAgentRunner.steps().emitMany(50, "n", i -> Map.of("i", i)).thenComplete());
        start(b -> b.maxConcurrentTasks(8).liveTailSize(32));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            ids.add(manager.create(TaskRequest.of("coder", "task " + i)).id());
        }
        for (String id : ids) {
            EventLogs.assertCompleteLog(events(id), TaskStatus.COMPLETED);
        }
        Awaitility.await().atMost(WAIT).untilAsserted(() -> {
            ManagerStats s = manager.stats();
            assertThat(s.activeTasks()).as("active tasks").isZero();
            assertThat(s.runningTurns()).as("running turns").isZero();
            assertThat(s.queuedTurns()).as("queued turns").isZero();
            assertThat(s.openSubscriptions()).as("open subscriptions").isZero();
            assertThat(s.tailEvents()).as("events held in live tails").isZero();
        });
        assertThat(manager.stats().peakTailEvents()).isLessThanOrEqualTo(32);
    }

    @Test
    void aCancelledSubscriptionIsReleased() {
        Gate gate = gate();
        runner.script("coder", ScriptedAgentRunner.steps().await(gate).thenComplete());
        start();
        Task t = manager.create(TaskRequest.of("coder", "watched"));
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(sub);
        sub.awaitItems(1, WAIT);
        Awaitility.await().atMost(WAIT).until(() -> manager.stats().openSubscriptions() == 1);
        sub.cancel();
        Awaitility.await().atMost(WAIT).until(() -> manager.stats().openSubscriptions() == 0);
        gate.release();
        awaitStatus(t.id(), TaskStatus.COMPLETED);
        assertThat(sub.isTerminated()).as("no signal after cancel needs to arrive, and none did").isFalse();
        sub.assertNoViolations();
    }

    @Test
    void listenersSeeEveryCommittedEventOnceAndInOrderAndEveryLifecycleStep() {
        Map<String, List<Long>> appended = new ConcurrentHashMap<>();
        List<String> lifecycle = new CopyOnWriteArrayList<>();
        runner.script("coder", 1, ScriptedAgentRunner.steps().emitMany(30, "n", i -> Map.of("i", i))
                .thenAskForInput(Map.of("question", "?")));
        runner.script("coder", 2, ScriptedAgentRunner.steps().emitMany(30, "n", i -> Map.of("i", i)).thenComplete());
        start(b -> b.listener(new TaskListener() {
            @Override
            public void taskCreated(Task task) {
                lifecycle.add("created " + task.status());
            }

            @Override
            public void turnStarted(Task task, int turn) {
                lifecycle.add("turn " + turn + " " + task.status());
            }

            @Override
            public void taskFinished(Task task) {
                lifecycle.add("finished " + task.status());
            }

            @Override
            public void eventAppended(TaskEvent event) {
                appended.computeIfAbsent(event.taskId(), k -> new CopyOnWriteArrayList<>()).add(event.seq());
            }
        }));
        Task t = manager.create(TaskRequest.of("coder", "listened"));
        awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT);
        manager.sendMessage(t.id(), TaskMessage.text("more"));
        List<TaskEvent> log = events(t.id());
        EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
        Awaitility.await().atMost(WAIT).until(() -> lifecycle.contains("finished COMPLETED")
                && appended.getOrDefault(t.id(), List.of()).size() >= log.size());
        assertThat(appended.get(t.id())).containsExactlyElementsOf(EventLogs.seqs(log));
        assertThat(lifecycle).containsExactly("created PENDING", "turn 1 RUNNING", "turn 2 RUNNING",
                "finished COMPLETED");
    }

    @Test
    void eventsAreDeliveredOnTheLibrarysOwnThreadsNotTheCommonPool() {
        runner.script("coder", ScriptedAgentRunner.steps().emitMany(200, "n", i -> Map.of("i", i)).thenComplete());
        start();
        Set<String> threads = ConcurrentHashMap.newKeySet();
        List<RecordingSubscriber<TaskEvent>> subs = new ArrayList<>();
        Task t = manager.create(TaskRequest.of("coder", "threads"));
        for (int i = 0; i < 5; i++) {
            RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.<TaskEvent>requesting(1).requestOnEachItem(1)
                    .onItem(e -> threads.add(Thread.currentThread().getName()));
            subs.add(sub);
            manager.events(t.id()).subscribe(sub);
        }
        for (RecordingSubscriber<TaskEvent> sub : subs) {
            EventLogs.assertCompleteLog(sub.awaitCompletion(WAIT), TaskStatus.COMPLETED);
        }
        assertThat(threads).isNotEmpty().noneMatch(name -> name.contains("ForkJoinPool.commonPool"));
    }

    @Test
    void theDefaultExecutorUsesVirtualThreadsWhenTheJvmHasThem() throws Exception {
        Method isVirtual = virtualCheck();
        Set<Boolean> virtual = ConcurrentHashMap.newKeySet();
        runner.script("coder", ScriptedAgentRunner.steps()
                .then((turn, ctx) -> virtual.add((Boolean) isVirtual.invoke(Thread.currentThread()))).thenComplete());
        start();
        for (int i = 0; i < 3; i++) {
            events(manager.create(TaskRequest.of("coder", "virtual " + i)).id());
        }
        assertThat(virtual).containsExactly(Boolean.TRUE);
    }

    @Test
    void onJava17TheDefaultExecutorIsABoundedPlatformPool() {
        assumeTrue(Runtime.version().feature() < 21, "the JVM has virtual threads");
        Set<String> names = ConcurrentHashMap.newKeySet();
        runner.script("coder", ScriptedAgentRunner.steps()
                .then((turn, ctx) -> names.add(Thread.currentThread().getName())).thenComplete());
        start(b -> b.maxConcurrentTasks(2));
        for (int i = 0; i < 40; i++) {
            events(manager.create(TaskRequest.of("coder", "platform " + i)).id());
        }
        // threads are reused, not one per turn; a few beyond the limit may exist for turns past their grace
        assertThat(names).isNotEmpty().hasSizeLessThanOrEqualTo(2 + 8)
                .noneMatch(name -> name.contains("ForkJoinPool.commonPool"));
    }

    private static Method virtualCheck() {
        assumeTrue(Runtime.version().feature() >= 21, "virtual threads need Java 21+");
        try {
            return Thread.class.getMethod("isVirtual");
        } catch (NoSuchMethodException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aHostExecutorRunsTheTurnsAndIsNotShutDownByClose() {
        AtomicInteger created = new AtomicInteger();
        ExecutorService hostPool = Executors.newFixedThreadPool(2, r -> {
            Thread th = new Thread(r, "host-pool-" + created.incrementAndGet());
            th.setDaemon(true);
            return th;
        });
        try {
            Set<String> turnThreads = ConcurrentHashMap.newKeySet();
            runner.script("coder", ScriptedAgentRunner.steps()
                    .then((turn, ctx) -> turnThreads.add(Thread.currentThread().getName())).thenComplete());
            start(b -> b.executor(hostPool));
            for (int i = 0; i < 5; i++) {
                Task t = manager.create(TaskRequest.of("coder", "on the host pool " + i));
                events(t.id());
            }
            manager.close();
            assertThat(turnThreads).isNotEmpty().allMatch(name -> name.startsWith("host-pool-"));
            assertThat(hostPool.isShutdown()).isFalse();
        } finally {
            hostPool.shutdownNow();
        }
    }

    @Test
    void aMessageToAQueuedTaskRunsAfterItsFirstTurn() {
        Gate blocker = gate();
        runner.scriptWhen(turn -> turn.message() != null && turn.message().text().equals("blocker"),
                ScriptedAgentRunner.steps().await(blocker).thenComplete());
        start(b -> b.maxConcurrentTasks(1));
        Task first = manager.create(TaskRequest.of("coder", "blocker"));
        blocker.awaitReached(WAIT);
        Task queued = manager.create(TaskRequest.of("coder", "queued"));
        assertThat(manager.sendMessage(queued.id(), TaskMessage.text("follow-up"))).isEqualTo(SendResult.QUEUED);
        assertThat(manager.get(queued.id()).orElseThrow().status()).isEqualTo(TaskStatus.PENDING);
        blocker.release();
        EventLogs.assertCompleteLog(events(queued.id()), TaskStatus.COMPLETED);
        assertThat(runner.turns(queued.id())).extracting(turn -> turn.message().text())
                .containsExactly("queued", "follow-up");
        assertThat(manager.get(first.id()).orElseThrow().status()).isEqualTo(TaskStatus.COMPLETED);
    }

    @Test
    void deletingOrCancellingQueuedTasksKeepsTheQueueInOrder() {
        Gate blocker = gate();
        runner.scriptWhen(turn -> turn.message() != null && turn.message().text().equals("blocker"),
                ScriptedAgentRunner.steps().await(blocker).thenComplete());
        start(b -> b.maxConcurrentTasks(1));
        manager.create(TaskRequest.of("coder", "blocker"));
        blocker.awaitReached(WAIT);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(manager.create(TaskRequest.of("coder", "queued " + i)).id());
        }
        assertThat(manager.delete(ids.get(1))).isTrue();
        assertThat(manager.cancel(ids.get(3))).isTrue();
        blocker.release();
        for (String id : List.of(ids.get(0), ids.get(2), ids.get(4))) {
            awaitStatus(id, TaskStatus.COMPLETED);
        }
        List<String> started = runner.turns().stream().map(Turn::taskId).filter(ids::contains).toList();
        assertThat(started).containsExactly(ids.get(0), ids.get(2), ids.get(4));
        assertThat(manager.get(ids.get(3)).orElseThrow().status()).isEqualTo(TaskStatus.CANCELLED);
        assertThat(manager.get(ids.get(1))).isEmpty();
    }

    @Test
    void aSubscriptionToAWaitingTaskStaysOpenUntilTheTaskEnds() {
        runner.script("coder", 1, ScriptedAgentRunner.steps().thenAskForInput(Map.of("question", "Which file?")));
        start();
        Task t = manager.create(TaskRequest.of("coder", "ask"));
        awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT);
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(sub);
        TaskEvent waiting = sub.awaitItem(e -> e.status() == TaskStatus.WAITING_FOR_INPUT, WAIT);
        // the question is recorded in the status event (its exact shape is the engine's choice)
        assertThat(waiting.data().toString()).contains("Which file?");
        assertThat(sub.isTerminated()).isFalse();
        manager.sendMessage(t.id(), TaskMessage.text("answer"));
        EventLogs.assertCompleteLog(sub.awaitCompletion(WAIT), TaskStatus.COMPLETED);
        sub.assertNoViolations();
    }

    @Test
    void pagingIsExactWhenEveryTaskHasTheSameCreationTime() {
        Instant now = Instant.parse("2026-03-01T12:00:00Z");
        start(b -> b.clock(Clock.fixed(now, ZoneOffset.UTC)));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            Task t = manager.create(TaskRequest.of("coder", "same instant " + i));
            assertThat(t.createdAt()).isEqualTo(now);
            ids.add(t.id());
        }
        List<String> seen = new ArrayList<>();
        TaskQuery q = TaskQuery.all().withLimit(4);
        for (int guard = 0; guard < 20; guard++) {
            TaskPage page = manager.list(q);
            page.tasks().forEach(task -> seen.add(task.id()));
            if (page.nextCursor() == null) {
                break;
            }
            q = q.withCursor(page.nextCursor());
        }
        assertThat(seen).doesNotHaveDuplicates().containsExactlyInAnyOrderElementsOf(ids);
        List<String> sortedDesc = new ArrayList<>(ids);
        sortedDesc.sort(java.util.Comparator.reverseOrder());
        assertThat(seen).as("ties on createdAt broken by id, descending").containsExactlyElementsOf(sortedDesc);
        for (String id : ids) {
            assertThat(events(id)).allSatisfy(e -> assertThat(e.timestamp()).isEqualTo(now));
        }
    }
}
