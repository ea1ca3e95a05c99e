package dev.agenttasks.examples;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Running time from the status events: waits do not count, reads are bounded, finished values are kept. */
class RunningTimesTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    /** A task's events in memory; counts what is read. */
    private static final class Log implements RunningTimes.EventPages {
        final Map<String, List<TaskEvent>> events = new HashMap<>();
        final List<Long> readsAfter = new ArrayList<>();
        long eventsRead;

        void status(String id, TaskStatus status, long atMillis) {
            add(id, "status", Map.of("status", status.wireName()), atMillis);
        }

        void add(String id, String type, Map<String, Object> data, long atMillis) {
            List<TaskEvent> log = events.computeIfAbsent(id, k -> new ArrayList<>());
            log.add(new TaskEvent(id, log.size() + 1, type, data, T0.plusMillis(atMillis)));
        }

        void text(String id, int n, long atMillis) {
            for (int i = 0; i < n; i++) {
                add(id, "text_delta", Map.of("text", "x"), atMillis);
            }
        }

        @Override
        public List<TaskEvent> events(String taskId, long afterSeq, int limit) {
            readsAfter.add(afterSeq);
            List<TaskEvent> all = events.getOrDefault(taskId, List.of());
            List<TaskEvent> page = all.subList((int) Math.min(afterSeq, all.size()),
                    (int) Math.min(afterSeq + limit, all.size()));
            eventsRead += page.size();
            return List.copyOf(page);
        }
    }

    private static Task task(String id, TaskStatus status, boolean started) {
        return new Task(id, "demo", null, status, "t", null, T0, started ? T0.plusMillis(1) : null,
                status.isTerminal() ? T0.plusSeconds(200) : null, null, null, Map.of());
    }

    private static Clock at(long millis) {
        return Clock.fixed(T0.plusMillis(millis), ZoneOffset.UTC);
    }

    @Test
    void onlyTheSpansSpentRunningCountNotTheWaitForTheUserNorTheQueue() {
        Log log = new Log();
        log.status("a", TaskStatus.PENDING, 0);
        log.status("a", TaskStatus.RUNNING, 1_000);
        log.text("a", 3, 2_000);
        log.status("a", TaskStatus.WAITING_FOR_INPUT, 3_000);   // 2 s running
        log.status("a", TaskStatus.PENDING, 103_000);            // the user answered 100 s later
        log.status("a", TaskStatus.RUNNING, 110_000);            // 7 s queued
        log.status("a", TaskStatus.COMPLETED, 116_000);          // 6 s running
        RunningTimes times = new RunningTimes(log, at(500_000), 1000, 100);
        assertThat(times.runningMillis(task("a", TaskStatus.COMPLETED, true), times.budget())).isEqualTo(8_000L);
    }

    @Test
    void aTaskRunningNowCountsUpToTheClockAndAWaitingTaskDoesNotGrow() {
        Log log = new Log();
        log.status("r", TaskStatus.PENDING, 0);
        log.status("r", TaskStatus.RUNNING, 1_000);
        log.status("w", TaskStatus.PENDING, 0);
        log.status("w", TaskStatus.RUNNING, 1_000);
        log.status("w", TaskStatus.WAITING_FOR_INPUT, 4_000);
        RunningTimes times = new RunningTimes(log, at(6_000), 1000, 100);
        assertThat(times.runningMillis(task("r", TaskStatus.RUNNING, true), times.budget())).isEqualTo(5_000L);
        assertThat(times.runningMillis(task("w", TaskStatus.WAITING_FOR_INPUT, true), times.budget())).isEqualTo(3_000L);
        RunningTimes later = new RunningTimes(log, at(60_000), 1000, 100);
        assertThat(later.runningMillis(task("w", TaskStatus.WAITING_FOR_INPUT, true), later.budget())).isEqualTo(3_000L);
    }

    @Test
    void aFinishedTaskIsReadOnceAndAnActiveOneOnlyFromWhereTheLastReadStopped() {
        Log log = new Log();
        log.status("a", TaskStatus.PENDING, 0);
        log.status("a", TaskStatus.RUNNING, 0);
        log.text("a", 50, 10);
        RunningTimes times = new RunningTimes(log, at(1_000), 1000, 100);
        assertThat(times.runningMillis(task("a", TaskStatus.RUNNING, true), times.budget())).isEqualTo(1_000L);
        assertThat(log.eventsRead).isEqualTo(52);

        log.text("a", 10, 1_500);
        log.status("a", TaskStatus.COMPLETED, 2_000);
        log.readsAfter.clear();
        assertThat(times.runningMillis(task("a", TaskStatus.COMPLETED, true), times.budget())).isEqualTo(2_000L);
        assertThat(log.readsAfter).containsExactly(52L);
        assertThat(log.eventsRead).isEqualTo(63);

        log.readsAfter.clear();
        for (int i = 0; i < 5; i++) {
            assertThat(times.runningMillis(task("a", TaskStatus.COMPLETED, true), times.budget())).isEqualTo(2_000L);
        }
        assertThat(log.readsAfter).as("a finished task's value is kept").isEmpty();
    }

    @Test
    void aRequestReadsAtMostItsBudgetAndALongHistoryIsFinishedOnLaterRequests() {
        Log log = new Log();
        log.status("big", TaskStatus.PENDING, 0);
        log.status("big", TaskStatus.RUNNING, 0);
        log.text("big", 2_500, 100);
        log.status("big", TaskStatus.FAILED, 9_000);
        log.status("small", TaskStatus.PENDING, 0);
        log.status("small", TaskStatus.RUNNING, 0);
        log.status("small", TaskStatus.COMPLETED, 3_000);
        RunningTimes times = new RunningTimes(log, at(10_000), 1_000, 100);

        RunningTimes.Budget first = times.budget();
        assertThat(times.runningMillis(task("big", TaskStatus.FAILED, true), first)).as("not known yet").isNull();
        assertThat(times.runningMillis(task("small", TaskStatus.COMPLETED, true), first))
                .as("the budget is spent for this request").isNull();
        assertThat(log.eventsRead).isEqualTo(1_000);

        RunningTimes.Budget second = times.budget();
        assertThat(times.runningMillis(task("big", TaskStatus.FAILED, true), second)).isNull();
        assertThat(log.eventsRead).isEqualTo(2_000);
        RunningTimes.Budget third = times.budget();
        assertThat(times.runningMillis(task("big", TaskStatus.FAILED, true), third)).isEqualTo(9_000L);
        assertThat(times.runningMillis(task("small", TaskStatus.COMPLETED, true), third)).isEqualTo(3_000L);
        assertThat(log.eventsRead).isEqualTo(2_503 + 3);
    }

    @Test
    void aTaskThatNeverStartedIsNotReadAndTheKeptTasksAreBounded() {
        Log log = new Log();
        log.status("p", TaskStatus.PENDING, 0);
        RunningTimes times = new RunningTimes(log, at(1_000), 1_000, 2);
        assertThat(times.runningMillis(task("p", TaskStatus.PENDING, false), times.budget())).isNull();
        assertThat(log.readsAfter).isEmpty();
        for (String id : List.of("a", "b", "c", "d")) {
            log.status(id, TaskStatus.RUNNING, 0);
            log.status(id, TaskStatus.COMPLETED, 500);
            assertThat(times.runningMillis(task(id, TaskStatus.COMPLETED, true), times.budget())).isEqualTo(500L);
        }
        assertThat(times.size()).isEqualTo(2);
    }

    @Test
    void aFailedReadIsNotKnownAndIsTriedAgainLater() {
        Log log = new Log();
        log.status("a", TaskStatus.RUNNING, 0);
        log.status("a", TaskStatus.COMPLETED, 700);
        boolean[] failing = {true};
        RunningTimes times = new RunningTimes((id, after, limit) -> {
            if (failing[0]) {
                throw new IllegalStateException("store down");
            }
            return log.events(id, after, limit);
        }, at(1_000), 1_000, 100);
        assertThat(times.runningMillis(task("a", TaskStatus.COMPLETED, true), times.budget())).isNull();
        failing[0] = false;
        assertThat(times.runningMillis(task("a", TaskStatus.COMPLETED, true), times.budget())).isEqualTo(700L);
    }

    @Test
    void withoutAStoreNothingIsKnown() {
        RunningTimes times = new RunningTimes(null);
        assertThat(times.runningMillis(task("a", TaskStatus.COMPLETED, true), times.budget())).isNull();
    }
}
