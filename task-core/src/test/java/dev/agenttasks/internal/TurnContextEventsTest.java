package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** {@link TurnContext#events}: a runner reads its task's own log, everything recorded so far included. */
class TurnContextEventsTest {

    /** What a turn read: the whole log after emitting a note, and one page of one event. */
    record Seen(int turn, List<TaskEvent> log, List<TaskEvent> page) {
    }

    final List<Seen> seen = new CopyOnWriteArrayList<>();
    final List<Throwable> badArguments = new CopyOnWriteArrayList<>();

    final AgentRunner runner = new AgentRunner() {
        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return Optional.of(new AgentDescriptor(agentId, "Reader", null));
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext ctx) {
            ctx.emit("note", Map.of("turn", turn.number()));
            List<TaskEvent> log = ctx.events(0, 1000);
            long last = log.get(log.size() - 1).seq();
            seen.add(new Seen(turn.number(), log, ctx.events(last - 2, 1)));
            for (long[] bad : new long[][] {{-1, 10}, {0, 0}}) {
                try {
                    ctx.events(bad[0], (int) bad[1]);
                } catch (InvalidRequestException e) {
                    badArguments.add(e);
                }
            }
            return turn.number() == 1 ? TurnResult.awaitingInput(Map.of("question", "next?")) : TurnResult.completed();
        }
    };

    @Test
    void aTurnReadsEarlierTurnsItsOwnMessageAndWhatItJustEmitted() {
        // a long commit delay: without the flush in events(), the turn would not see its own note yet
        try (TaskManager m = TaskManager.builder().store(TaskStore.inMemory()).runner(runner)
                .commitDelay(Duration.ofMillis(500)).build()) {
            Task t = m.create(TaskRequest.of("reader", "hello"));
            await().until(() -> m.get(t.id()).orElseThrow().status() == TaskStatus.WAITING_FOR_INPUT);
            m.sendMessage(t.id(), TaskMessage.text("second"));
            await().until(() -> m.get(t.id()).orElseThrow().status() == TaskStatus.COMPLETED);
        }

        assertThat(seen).hasSize(2);
        Seen first = seen.get(0);
        assertThat(first.log()).extracting(TaskEvent::type).containsExactly("status", "user_message", "status", "note");
        assertThat(first.log().get(1).data()).containsEntry("text", "hello");
        Seen second = seen.get(1);
        assertThat(second.log()).extracting(TaskEvent::type).containsExactly("status", "user_message", "status",
                "note", "status", "status", "status", "user_message", "note");
        assertThat(second.log().get(4).data()).containsEntry("status", "waiting_for_input");
        assertThat(second.log().get(5).data()).containsEntry("status", "pending");
        assertThat(second.log().get(7).data()).containsEntry("text", "second").containsEntry("turn", 2L);
        for (Seen s : seen) {
            assertThat(s.log()).extracting(TaskEvent::seq).containsExactlyElementsOf(
                    java.util.stream.LongStream.rangeClosed(1, s.log().size()).boxed().toList());
            long last = s.log().size();
            assertThat(s.page()).extracting(TaskEvent::seq).containsExactly(last - 1);
        }
        assertThat(badArguments).hasSize(4);
    }

    @Test
    void aContextWrittenOutsideTheEngineSaysItCanNotReadTheLog() {
        TurnContext foreign = new TurnContext() {
            @Override public String taskId() { return "t"; }
            @Override public void emit(String type, Map<String, ?> data) { }
            @Override public void sessionId(String sessionId) { }
            @Override public boolean isCancelled() { return false; }
        };
        assertThatThrownBy(() -> foreign.events(0, 10)).isInstanceOf(UnsupportedOperationException.class);
    }
}
