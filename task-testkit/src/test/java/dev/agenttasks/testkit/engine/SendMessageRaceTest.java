package dev.agenttasks.testkit.engine;

import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code sendMessage} racing with the end of a turn (issue 2, point 3): an acknowledged message is never
 * lost and never delivered twice; a refused one was refused because the task had finished.
 */
class SendMessageRaceTest extends EngineTestBase {

    private static final int ITERATIONS = 200;

    /** Turn 1 of task "race i" waits for its latch, then ends the way the test says; later turns complete. */
    private final Map<String, CountDownLatch> go = new ConcurrentHashMap<>();

    private void script(boolean askForInput) {
        runner.script("coder", 1, ScriptedAgentRunner.steps().then((turn, ctx) -> {
            go.get(turn.message().text()).await();
        }).thenEnd((turn, ctx) -> askForInput
                ? dev.agenttasks.spi.TurnResult.awaitingInput(Map.of("question", "more?"))
                : dev.agenttasks.spi.TurnResult.completed()));
        runner.script("coder", ScriptedAgentRunner.steps().thenComplete());
    }

    private void race(boolean askForInput) {
        script(askForInput);
        start(b -> b.maxConcurrentTasks(16));
        List<String> ids = new ArrayList<>();
        Map<String, String> acknowledged = new HashMap<>();
        List<String> refused = new ArrayList<>();
        for (int i = 0; i < ITERATIONS; i++) {
            String text = "race " + i;
            CountDownLatch latch = new CountDownLatch(1);
            go.put(text, latch);
            Task t = manager.create(TaskRequest.of("coder", text));
            ids.add(t.id());
            runner.awaitTurnStarted(t.id(), 1, WAIT);
            String follow = "follow-up " + i;
            latch.countDown(); // the turn ends now, concurrently with the message below
            try {
                SendResult r = manager.sendMessage(t.id(), TaskMessage.text(follow));
                assertThat(r).isIn(SendResult.QUEUED, SendResult.STARTED_TURN);
                acknowledged.put(t.id(), follow);
            } catch (TaskNotAcceptingMessagesException e) {
                assertThat(askForInput).as("a task waiting for input must accept the message").isFalse();
                assertThat(e.status()).isEqualTo(TaskStatus.COMPLETED);
                refused.add(t.id());
            }
        }
        for (String id : ids) {
            Task end = awaitTerminal(id);
            assertThat(end.status()).as("task %s", id).isEqualTo(TaskStatus.COMPLETED);
            EventLogs.assertCompleteLog(events(id), TaskStatus.COMPLETED);
            List<Turn> turns = runner.turns(id);
            if (acknowledged.containsKey(id)) {
                List<String> delivered = turns.stream().skip(1)
                        .map(turn -> turn.message() == null ? null : turn.message().text()).toList();
                assertThat(delivered).as("turns after the first of %s", id).containsExactly(acknowledged.get(id));
            } else {
                assertThat(turns).as("turns of %s", id).hasSize(1);
            }
            assertThat(data.pendingMessages(id)).as("pending messages of %s", id).isEmpty();
        }
        assertThat(acknowledged.size() + refused.size()).isEqualTo(ITERATIONS);
    }

    @Test
    void aMessageRacingWithATurnThatAsksForInputIsAlwaysDelivered() {
        race(true);
    }

    @Test
    void aMessageRacingWithATurnThatCompletesIsDeliveredOrRefusedNeverLost() {
        race(false);
    }
}
