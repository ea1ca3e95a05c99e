package dev.agenttasks.testkit.engine;

import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What the TaskManager Javadoc promises is in the store by the time a call returns. */
class DurabilityPointsTest extends EngineTestBase {

    @Test
    void createReturnsOnceTheTaskIsStored() {
        Gate gate = gate();
        runner.script("coder", ScriptedAgentRunner.steps().await(gate).thenComplete());
        start(b -> b.maxConcurrentTasks(1));
        for (int i = 0; i < 50; i++) {
            Task t = manager.create(TaskRequest.of("coder", "stored " + i));
            assertThat(data.task(t.id())).as("task %d in the store when create returns", i).isPresent();
        }
    }

    @Test
    void sendMessageReturnsOnceTheMessageIsStored() {
        Gate gate = gate();
        runner.script("coder", ScriptedAgentRunner.steps().await(gate).thenComplete());
        start();
        Task t = manager.create(TaskRequest.of("coder", "running"));
        gate.awaitReached(WAIT);
        for (int i = 0; i < 5; i++) {
            assertThat(manager.sendMessage(t.id(), TaskMessage.text("m" + i))).isEqualTo(SendResult.QUEUED);
            assertThat(data.pendingMessages(t.id())).extracting(m -> m.message().text()).contains("m" + i);
        }
        assertThat(data.pendingMessages(t.id())).extracting(PendingMessage::message)
                .extracting(TaskMessage::text).containsExactly("m0", "m1", "m2", "m3", "m4");
    }

    @Test
    void cancelReturnsOnceCancelledIsStored() {
        Gate gate = gate();
        runner.script("coder", ScriptedAgentRunner.steps().await(gate).thenComplete());
        start();
        Task t = manager.create(TaskRequest.of("coder", "to cancel"));
        gate.awaitReached(WAIT);
        assertThat(manager.cancel(t.id())).isTrue();
        assertThat(data.task(t.id()).orElseThrow().task().status()).isEqualTo(TaskStatus.CANCELLED);
        assertThat(storedEvents(t.id()).get(storedEvents(t.id()).size() - 1).status()).isEqualTo(TaskStatus.CANCELLED);
    }

    @Test
    void deleteReturnsOnceEverythingIsRemoved() {
        Gate gate = gate();
        runner.script("coder", ScriptedAgentRunner.steps().emit("text", java.util.Map.of("t", 1)).await(gate)
                .thenComplete());
        start();
        Task t = manager.create(TaskRequest.of("coder", "to delete"));
        gate.awaitReached(WAIT);
        manager.sendMessage(t.id(), TaskMessage.text("pending"));
        assertThat(manager.delete(t.id())).isTrue();
        assertThat(data.task(t.id())).isEmpty();
        assertThat(storedEvents(t.id())).isEmpty();
        assertThat(data.pendingMessages(t.id())).isEmpty();
        // and a late emit or end of the interrupted turn does not bring anything back
        runner.awaitTurnFinished(t.id(), 1, WAIT);
        assertThat(data.task(t.id())).isEmpty();
        assertThat(storedEvents(t.id())).isEmpty();
    }
}
