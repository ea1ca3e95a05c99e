package dev.agenttasks.testkit.engine;

import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskListener;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A stateful random test of the status machine: random sequences of operations (create, send, cancel,
 * delete, runner outcomes) on a manager with a concurrency limit; every status change the listener sees
 * and every task's status events are legal ({@link TaskStatus#canMoveTo}), and every task ends with
 * exactly one terminal status event. Each seed is a reproducible sequence of operations (the timing,
 * and so the interleaving with the engine's threads, varies from run to run).
 */
class StatusMachineStatefulTest extends EngineTestBase {

    enum Outcome { COMPLETE, ASK, FAIL, EMIT }

    static LongStream seeds() {
        return LongStream.rangeClosed(1, 25);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomOperationsOnlyEverMakeLegalTransitions(long seed) {
        Random random = new Random(seed);
        Map<String, BlockingQueue<Outcome>> outcomes = new ConcurrentHashMap<>();
        List<String> illegal = Collections.synchronizedList(new ArrayList<>());
        Map<String, Integer> finishedCalls = new ConcurrentHashMap<>();
        runner.script("coder", ScriptedAgentRunner.steps().thenEnd((turn, ctx) -> {
            BlockingQueue<Outcome> q = outcomes.computeIfAbsent(turn.taskId(), k -> new LinkedBlockingQueue<>());
            while (true) {
                Outcome o = q.poll(30, TimeUnit.SECONDS);
                if (o == null || o == Outcome.COMPLETE) {
                    return TurnResult.completed();
                }
                switch (o) {
                    case ASK:
                        return TurnResult.awaitingInput(Map.of("question", "?"));
                    case FAIL:
                        throw new IllegalStateException("scripted failure");
                    default:
                        ctx.emit("text", Map.of("text", "working"));
                }
            }
        }));
        start(b -> b.maxConcurrentTasks(2).cancelGrace(Duration.ofMillis(200)).listener(new TaskListener() {
            @Override
            public void statusChanged(Task task, TaskStatus from) {
                if (!from.canMoveTo(task.status())) {
                    illegal.add(task.id() + ": " + from + " -> " + task.status());
                }
            }

            @Override
            public void taskFinished(Task task) {
                finishedCalls.merge(task.id(), 1, Integer::sum);
                if (!task.status().isTerminal()) {
                    illegal.add(task.id() + ": finished in " + task.status());
                }
            }
        }));

        List<String> tasks = new ArrayList<>();
        Set<String> deleted = new HashSet<>();
        List<String> trace = new ArrayList<>();
        for (int step = 0; step < 40; step++) {
            int op = tasks.isEmpty() ? 0 : random.nextInt(12);
            if (op < 3) {
                String id = manager.create(TaskRequest.of("coder", "task " + tasks.size())).id();
                outcomes.computeIfAbsent(id, k -> new LinkedBlockingQueue<>());
                tasks.add(id);
                trace.add("create " + (tasks.size() - 1));
                continue;
            }
            int index = random.nextInt(tasks.size());
            String id = tasks.get(index);
            if (op < 5) {
                trace.add("send " + index);
                try {
                    manager.sendMessage(id, TaskMessage.text("message " + step));
                } catch (TaskNotAcceptingMessagesException e) {
                    assertThat(e.status().isTerminal()).isTrue();
                } catch (NoSuchTaskException e) {
                    assertThat(deleted).contains(id);
                }
            } else if (op < 7) {
                trace.add("cancel " + index);
                try {
                    manager.cancel(id);
                } catch (NoSuchTaskException e) {
                    assertThat(deleted).contains(id);
                }
            } else if (op < 8) {
                trace.add("delete " + index);
                manager.delete(id);
                deleted.add(id);
            } else {
                Outcome o = Outcome.values()[random.nextInt(Outcome.values().length)];
                trace.add(o + " " + index);
                outcomes.get(id).add(o);
            }
        }

        // let the rest end: finish pending/running/waiting tasks by cancelling them
        for (String id : tasks) {
            if (deleted.contains(id)) {
                assertThat(manager.get(id)).as("deleted %s (trace %s)", id, trace).isEmpty();
                continue;
            }
            try {
                manager.cancel(id);
            } catch (NoSuchTaskException e) {
                throw new AssertionError("task " + id + " vanished; trace " + trace, e);
            }
        }
        for (String id : tasks) {
            if (deleted.contains(id)) {
                continue;
            }
            Task end = awaitTerminal(id);
            List<TaskEvent> log = events(id);
            try {
                EventLogs.assertCompleteLog(log, end.status());
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; trace " + trace, e);
            }
            assertThat(data.task(id).orElseThrow().task().status()).isEqualTo(end.status());
        }
        assertThat(illegal).as("illegal transitions seen by the listener; trace %s", trace).isEmpty();
        for (String id : tasks) {
            if (!deleted.contains(id)) {
                assertThat(finishedCalls.getOrDefault(id, 0)).as("taskFinished calls for %s; trace %s", id, trace)
                        .isEqualTo(1);
            }
        }
    }
}
