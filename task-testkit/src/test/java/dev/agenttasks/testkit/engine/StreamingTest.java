package dev.agenttasks.testkit.engine;

import dev.agenttasks.ManagerStats;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Many subscribers, late subscribers and slow subscribers (issue 2, point 6). */
class StreamingTest extends EngineTestBase {

    @Test
    void fiftySubscribersJoiningAtRandomMomentsOfATenThousandEventTaskAllSeeTheSameGaplessLog() {
        int chunks = 50;
        int perChunk = 200;
        Semaphore nextChunk = new Semaphore(0);
        runner.script("coder", ScriptedAgentRunner.steps().then((turn, ctx) -> {
            for (int c = 0; c < chunks; c++) {
                nextChunk.acquire();
                for (int i = 0; i < perChunk; i++) {
                    ctx.emit("n", Map.of("chunk", c, "i", i));
                }
            }
        }).thenComplete());
        start(b -> b.liveTailSize(256).pageSize(64));
        Task t = manager.create(TaskRequest.of("coder", "ten thousand events"));

        Random random = new Random(20261125);
        List<List<RecordingSubscriber<TaskEvent>>> joiners = new ArrayList<>();
        for (int c = 0; c <= chunks; c++) {
            joiners.add(new ArrayList<>());
        }
        List<RecordingSubscriber<TaskEvent>> all = new ArrayList<>();
        for (int s = 0; s < 50; s++) {
            RecordingSubscriber<TaskEvent> sub;
            switch (random.nextInt(3)) {
                case 0 -> sub = RecordingSubscriber.unbounded();
                case 1 -> sub = RecordingSubscriber.<TaskEvent>requesting(1 + random.nextInt(64)).requestOnEachItem(1);
                default -> sub = RecordingSubscriber.<TaskEvent>requesting(1).requestOnEachItem(1);
            }
            all.add(sub);
            // chunk index = the moment of joining; `chunks` means after the agent has finished
            joiners.get(random.nextInt(chunks + 1)).add(sub);
        }
        for (int c = 0; c < chunks; c++) {
            for (RecordingSubscriber<TaskEvent> sub : joiners.get(c)) {
                manager.events(t.id()).subscribe(sub);
            }
            nextChunk.release();
        }
        awaitStatus(t.id(), TaskStatus.COMPLETED);
        for (RecordingSubscriber<TaskEvent> sub : joiners.get(chunks)) {
            manager.events(t.id()).subscribe(sub);
        }

        List<TaskEvent> reference = storedEvents(t.id());
        EventLogs.assertCompleteLog(reference, TaskStatus.COMPLETED);
        assertThat(ofTypes(reference, "n")).hasSize(chunks * perChunk);
        for (int s = 0; s < all.size(); s++) {
            RecordingSubscriber<TaskEvent> sub = all.get(s);
            List<TaskEvent> got = sub.awaitCompletion(WAIT);
            sub.assertNoViolations();
            EventLogs.assertGapless(got, 0);
            assertThat(got).as("subscriber %d", s).isEqualTo(reference);
        }
    }

    @Test
    void aSubscriberTakingOneEventAtATimeWhileTheAgentEmitsAHundredThousandKeepsMemoryBounded() {
        int liveTail = 128;
        int pageSize = 32;
        int count = 100_000;
        runner.script("coder", ScriptedAgentRunner.steps().emitMany(count, "n", i -> Map.of("i", i)).thenComplete());
        start(b -> b.liveTailSize(liveTail).pageSize(pageSize));

        AtomicLong expectedSeq = new AtomicLong(1);
        RecordingSubscriber<TaskEvent> slow = RecordingSubscriber.<TaskEvent>requesting(1).keepItems(false)
                .onItem(e -> {
                    long want = expectedSeq.getAndIncrement();
                    if (e.seq() != want) {
                        throw new AssertionError("expected seq " + want + " but got " + e.seq());
                    }
                });
        Task t = manager.create(TaskRequest.of("coder", "a hundred thousand events"));
        manager.events(t.id()).subscribe(slow);
        slow.awaitItems(1, WAIT);

        // the agent is never blocked by the subscriber, which still holds one event
        Task done = awaitStatus(t.id(), TaskStatus.COMPLETED);
        assertThat(done.status()).isEqualTo(TaskStatus.COMPLETED);
        assertThat(slow.itemCount()).isEqualTo(1);
        ManagerStats whileBehind = manager.stats();
        assertThat(whileBehind.peakTailEvents()).isLessThanOrEqualTo(liveTail);
        assertThat(whileBehind.peakSubscriptionBuffer()).isLessThanOrEqualTo(pageSize);

        // now it catches up, one request(1) at a time, paging from the store
        slow.requestOnEachItem(1);
        slow.request(1);
        slow.awaitCompletion(WAIT.multipliedBy(4));
        slow.assertNoViolations();
        long lastSeq = data.task(t.id()).orElseThrow().lastSeq();
        assertThat(lastSeq).isGreaterThanOrEqualTo(count + 3L);
        assertThat(slow.itemCount()).isEqualTo(lastSeq);
        assertThat(slow.lastItem().orElseThrow().status()).isEqualTo(TaskStatus.COMPLETED);

        ManagerStats stats = manager.stats();
        assertThat(stats.peakTailEvents()).as("peak live tail").isLessThanOrEqualTo(liveTail);
        assertThat(stats.peakSubscriptionBuffer()).as("peak subscription buffer").isLessThanOrEqualTo(pageSize);
        assertThat(stats.eventsAppended()).isGreaterThanOrEqualTo(lastSeq);
    }

    @Test
    void aStalledSubscriberDoesNotHoldBackAFastOne() {
        runner.script("coder", ScriptedAgentRunner.steps().emitMany(5_000, "n", i -> Map.of("i", i)).thenComplete());
        start(b -> b.liveTailSize(64).pageSize(16));
        Task t = manager.create(TaskRequest.of("coder", "two subscribers"));
        RecordingSubscriber<TaskEvent> stalled = RecordingSubscriber.requesting(3);
        RecordingSubscriber<TaskEvent> fast = RecordingSubscriber.unbounded();
        manager.events(t.id()).subscribe(stalled);
        manager.events(t.id()).subscribe(fast);
        List<TaskEvent> all = fast.awaitCompletion(WAIT);
        EventLogs.assertCompleteLog(all, TaskStatus.COMPLETED);
        stalled.awaitItems(3, WAIT);
        stalled.assertAtMostItemsAndNotTerminated(3);
        assertThat(stalled.items()).isEqualTo(all.subList(0, 3));
        stalled.cancel();
        fast.assertNoViolations();
        stalled.assertNoViolations();
        assertThat(manager.stats().peakSubscriptionBuffer()).isLessThanOrEqualTo(16);
    }
}
