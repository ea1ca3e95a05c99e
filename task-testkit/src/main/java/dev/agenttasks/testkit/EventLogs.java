package dev.agenttasks.testkit;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;

import java.util.ArrayList;
import java.util.List;

/**
 * Checks of a task's event log, as a subscriber or the store sees it. Each check throws an
 * {@link AssertionError} that says what is wrong.
 */
public final class EventLogs {

    private EventLogs() {
    }

    /**
     * @param events events of one task
     * @return the statuses of its status events, in order
     */
    public static List<TaskStatus> statuses(List<TaskEvent> events) {
        List<TaskStatus> out = new ArrayList<>();
        for (TaskEvent e : events) {
            if (e.isStatus()) {
                out.add(e.status());
            }
        }
        return out;
    }

    /**
     * @param events events
     * @return their seqs, in order
     */
    public static List<Long> seqs(List<TaskEvent> events) {
        return events.stream().map(TaskEvent::seq).toList();
    }

    /**
     * Asserts the events carry consecutive seqs starting right after {@code afterSeq}, all of one task.
     *
     * @param events   the events
     * @param afterSeq the seq before the first event
     */
    public static void assertGapless(List<TaskEvent> events, long afterSeq) {
        long expected = afterSeq + 1;
        String taskId = events.isEmpty() ? null : events.get(0).taskId();
        for (TaskEvent e : events) {
            if (e.seq() != expected) {
                throw new AssertionError("expected seq " + expected + " but got " + e.seq() + " (after " + afterSeq
                        + ", " + events.size() + " events)");
            }
            if (!e.taskId().equals(taskId)) {
                throw new AssertionError("event " + e.seq() + " belongs to task " + e.taskId() + ", not " + taskId);
            }
            expected++;
        }
    }

    /**
     * Asserts the status history of a whole log (from seq 1) is legal: it starts with {@code pending},
     * every change is allowed by {@link TaskStatus#canMoveTo(TaskStatus)}, and no status event follows a
     * terminal one.
     *
     * @param events the log from seq 1
     */
    public static void assertLegalStatusHistory(List<TaskEvent> events) {
        TaskStatus current = null;
        boolean terminal = false;
        for (TaskEvent e : events) {
            if (terminal) {
                throw new AssertionError("event " + e.seq() + " (" + e.type() + ") after the terminal status event");
            }
            if (!e.isStatus()) {
                if (current == null) {
                    throw new AssertionError("event " + e.seq() + " (" + e.type() + ") before the pending status event");
                }
                continue;
            }
            TaskStatus next = e.status();
            if (next == null) {
                throw new AssertionError("status event " + e.seq() + " has no status: " + e.data());
            }
            if (current == null) {
                if (next != TaskStatus.PENDING) {
                    throw new AssertionError("the first status is " + next + ", not PENDING");
                }
            } else if (!current.canMoveTo(next)) {
                throw new AssertionError("illegal transition " + current + " -> " + next + " at seq " + e.seq()
                        + " in " + statuses(events));
            }
            current = next;
            terminal = next.isTerminal();
        }
    }

    /**
     * Asserts a complete log of a finished task: seqs 1..n without gaps, seq 1 is {@code pending}, a
     * legal status history, and exactly one terminal status event, the last one, with the given status.
     *
     * @param events   the whole log
     * @param terminal the expected final status
     */
    public static void assertCompleteLog(List<TaskEvent> events, TaskStatus terminal) {
        if (events.isEmpty()) {
            throw new AssertionError("the log is empty");
        }
        assertGapless(events, 0);
        TaskEvent first = events.get(0);
        if (first.status() != TaskStatus.PENDING) {
            throw new AssertionError("seq 1 is not the pending status event: " + first);
        }
        assertLegalStatusHistory(events);
        long terminals = events.stream().filter(TaskEvent::isTerminal).count();
        if (terminals != 1) {
            throw new AssertionError(terminals + " terminal status events in " + statuses(events));
        }
        TaskEvent last = events.get(events.size() - 1);
        if (!last.isTerminal() || last.status() != terminal) {
            throw new AssertionError("the last event is not the " + terminal + " status event: " + last
                    + " (statuses " + statuses(events) + ")");
        }
    }
}
