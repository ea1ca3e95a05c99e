package dev.agenttasks.testkit.engine;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.PayloadTooLargeException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskLimits;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.UnknownAgentException;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Bad input (issue 2, point 9): each case gets its specific exception (or {@code onError}, as the Reactive
 * Streams rules say) before anything is written.
 */
class BadInputTest extends EngineTestBase {

    private static final int SMALL = 200;

    @BeforeEach
    void startManager() {
        start(b -> b.limits(TaskLimits.defaults().withMaxMetadataBytes(SMALL).withMaxMessageBytes(SMALL)
                .withMaxEventBytes(SMALL)));
    }

    /** Asserts the call fails with the exception type and writes nothing at all. */
    private void rejectedBeforeWriting(ThrowingCallable call, Class<? extends Throwable> type) {
        int writes = storeHandle.writes();
        long tasks = data.list(TaskQuery.all().withLimit(1000), null, 1000).size();
        assertThatThrownBy(call).isInstanceOf(type);
        assertThat(storeHandle.writes()).as("store writes").isEqualTo(writes);
        assertThat(data.list(TaskQuery.all().withLimit(1000), null, 1000)).hasSize((int) tasks);
        assertThat(runner.turns()).isEmpty();
    }

    private void createRejected(TaskRequest request, Class<? extends Throwable> type) {
        rejectedBeforeWriting(() -> manager.create(request), type);
    }

    private static Map<String, Object> mapWith(String key, Object value) {
        Map<String, Object> m = new HashMap<>();
        m.put(key, value);
        return m;
    }

    @Nested
    class Create {

        @Test
        void nullRequest() {
            rejectedBeforeWriting(() -> manager.create(null), InvalidRequestException.class);
        }

        @Test
        void nullOrBlankAgentId() {
            createRejected(TaskRequest.of(null, "hi"), InvalidRequestException.class);
            createRejected(TaskRequest.of("", "hi"), InvalidRequestException.class);
            createRejected(TaskRequest.of("   ", "hi"), InvalidRequestException.class);
        }

        @Test
        void tooLongAgentId() {
            createRejected(TaskRequest.of("a".repeat(TaskLimits.DEFAULT_MAX_ID_LENGTH + 1), "hi"),
                    InvalidRequestException.class);
        }

        @Test
        void unknownAgentIsResolvedThroughTheRunnerFirst() {
            int calls = runner.describeCalls();
            createRejected(TaskRequest.of("nobody", "hi"), UnknownAgentException.class);
            assertThat(runner.describeCalls()).isGreaterThan(calls);
            assertThatThrownBy(() -> manager.create(TaskRequest.of("nobody", "hi")))
                    .isInstanceOfSatisfying(UnknownAgentException.class, e -> assertThat(e.agentId()).isEqualTo("nobody"));
        }

        @Test
        void emptyOrBlankText() {
            createRejected(TaskRequest.of("coder", ""), InvalidRequestException.class);
            createRejected(TaskRequest.of("coder", "  \n\t "), InvalidRequestException.class);
        }

        @Test
        void messageWithNeitherOrBothOfTextAndContent() {
            createRejected(TaskRequest.builder("coder").message(new TaskMessage(null, null)).build(),
                    InvalidRequestException.class);
            createRejected(TaskRequest.builder("coder").message(new TaskMessage("text",
                    List.of(Map.of("type", "text", "text", "also")))).build(), InvalidRequestException.class);
        }

        @Test
        void emptyContentOrNullBlock() {
            createRejected(TaskRequest.builder("coder").message(TaskMessage.content(List.of())).build(),
                    InvalidRequestException.class);
            List<Map<String, Object>> withNull = new ArrayList<>();
            withNull.add(null);
            createRejected(TaskRequest.builder("coder").message(TaskMessage.content(withNull)).build(),
                    InvalidRequestException.class);
        }

        @Test
        void contentThatIsNotJsonCompatible() {
            createRejected(TaskRequest.builder("coder").message(TaskMessage.content(List.of(
                    Map.of("type", "image", "source", new Object())))).build(), InvalidRequestException.class);
            createRejected(TaskRequest.builder("coder").message(TaskMessage.content(List.of(
                    Map.of("type", "image", "bytes", new byte[] {1, 2})))).build(), InvalidRequestException.class);
        }

        @Test
        void optionsThatAreNotJsonCompatible() {
            createRejected(TaskRequest.builder("coder").text("hi").option("thread", Thread.currentThread()).build(),
                    InvalidRequestException.class);
            createRejected(TaskRequest.builder("coder").text("hi").option("when", Optional.empty()).build(),
                    InvalidRequestException.class);
            createRejected(TaskRequest.builder("coder").text("hi").option("nested", Map.of(1, "int key")).build(),
                    InvalidRequestException.class);
            createRejected(TaskRequest.builder("coder").text("hi")
                    .option("deep", List.of(Map.of("x", List.of(new StringBuilder("sb"))))).build(),
                    InvalidRequestException.class);
        }

        @Test
        void nonFiniteNumbersAreNotJson() {
            createRejected(TaskRequest.builder("coder").text("hi").option("nan", Double.NaN).build(),
                    InvalidRequestException.class);
            createRejected(TaskRequest.builder("coder").text("hi").option("inf", Double.POSITIVE_INFINITY).build(),
                    InvalidRequestException.class);
        }

        @Test
        void selfReferencingOptions() {
            Map<String, Object> loop = new HashMap<>();
            loop.put("self", loop);
            createRejected(TaskRequest.builder("coder").text("hi").options(Map.of("loop", loop)).build(),
                    InvalidRequestException.class);
        }

        @Test
        void oversizeTitleMetadataMessageAndOptions() {
            createRejected(TaskRequest.builder("coder").text("hi").title("t".repeat(TaskLimits.DEFAULT_MAX_TITLE_LENGTH + 1))
                    .build(), PayloadTooLargeException.class);
            createRejected(TaskRequest.builder("coder").text("hi").metadata("k", "v".repeat(SMALL + 1)).build(),
                    PayloadTooLargeException.class);
            createRejected(TaskRequest.of("coder", "m".repeat(SMALL + 1)), PayloadTooLargeException.class);
            createRejected(TaskRequest.builder("coder").text("hi")
                    .option("big", "o".repeat(TaskLimits.DEFAULT_MAX_OPTIONS_BYTES + 1)).build(),
                    PayloadTooLargeException.class);
            assertThatThrownBy(() -> manager.create(TaskRequest.of("coder", "m".repeat(SMALL + 1))))
                    .isInstanceOfSatisfying(PayloadTooLargeException.class, e -> {
                        assertThat(e.limit()).isEqualTo(SMALL);
                        assertThat(e.size()).isGreaterThan(SMALL);
                    });
        }

        @Test
        void nullMetadataValueOrBlankExplicitTitle() {
            createRejected(TaskRequest.builder("coder").text("hi").metadata("k", null).build(),
                    InvalidRequestException.class);
            createRejected(TaskRequest.builder("coder").text("hi").title("   ").build(), InvalidRequestException.class);
        }

        @Test
        void nonPositiveTimeout() {
            createRejected(TaskRequest.builder("coder").text("hi").timeout(Duration.ZERO).build(),
                    InvalidRequestException.class);
            createRejected(TaskRequest.builder("coder").text("hi").timeout(Duration.ofSeconds(-1)).build(),
                    InvalidRequestException.class);
        }

        @Test
        void exceptionsNameTheFieldAtFault() {
            assertThatThrownBy(() -> manager.create(TaskRequest.of("coder", " ")))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isNotBlank());
            assertThatThrownBy(() -> manager.create(TaskRequest.of(" ", "hi")))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isNotBlank());
        }
    }

    @Nested
    class OtherCalls {

        private Task waiting;

        @BeforeEach
        void aWaitingTask() {
            runner.script("coder", 1, ScriptedAgentRunner.steps().thenAskForInput(Map.of("question", "?")));
            waiting = manager.create(TaskRequest.of("coder", "ask me"));
            awaitStatus(waiting.id(), TaskStatus.WAITING_FOR_INPUT);
        }

        private void sendRejected(String id, TaskMessage message, Class<? extends Throwable> type) {
            int writes = storeHandle.writes();
            int turns = runner.turns().size();
            long lastSeq = data.task(waiting.id()).orElseThrow().lastSeq();
            assertThatThrownBy(() -> manager.sendMessage(id, message)).isInstanceOf(type);
            assertThat(storeHandle.writes()).isEqualTo(writes);
            assertThat(runner.turns()).hasSize(turns);
            assertThat(data.pendingMessages(waiting.id())).isEmpty();
            assertThat(data.task(waiting.id()).orElseThrow().lastSeq()).isEqualTo(lastSeq);
            assertThat(manager.get(waiting.id()).orElseThrow().status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        }

        @Test
        void sendMessageWithBadIdOrMessage() {
            sendRejected(null, TaskMessage.text("hi"), InvalidRequestException.class);
            sendRejected("  ", TaskMessage.text("hi"), InvalidRequestException.class);
            sendRejected(waiting.id(), null, InvalidRequestException.class);
            sendRejected(waiting.id(), TaskMessage.text(""), InvalidRequestException.class);
            sendRejected(waiting.id(), TaskMessage.text(" \n "), InvalidRequestException.class);
            sendRejected(waiting.id(), new TaskMessage(null, null), InvalidRequestException.class);
            sendRejected(waiting.id(), TaskMessage.content(List.of()), InvalidRequestException.class);
            sendRejected(waiting.id(), TaskMessage.content(List.of(Map.of("type", "x", "v", new Object()))),
                    InvalidRequestException.class);
            sendRejected(waiting.id(), TaskMessage.text("m".repeat(SMALL + 1)), PayloadTooLargeException.class);
        }

        @Test
        void blankIdsElsewhere() {
            for (String id : new String[] {null, "", "  "}) {
                assertThatThrownBy(() -> manager.cancel(id)).isInstanceOf(InvalidRequestException.class);
                assertThatThrownBy(() -> manager.delete(id)).isInstanceOf(InvalidRequestException.class);
                assertThatThrownBy(() -> manager.get(id)).isInstanceOf(InvalidRequestException.class);
                assertThatThrownBy(() -> manager.events(id, 0)).isInstanceOf(InvalidRequestException.class);
            }
            assertThat(manager.get(waiting.id()).orElseThrow().status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        }

        @Test
        void negativeAfterSeq() {
            assertThatThrownBy(() -> manager.events(waiting.id(), -1)).isInstanceOf(InvalidRequestException.class);
        }

        @Test
        void badQueries() {
            assertThatThrownBy(() -> TaskQuery.all().withLimit(0)).isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> TaskQuery.all().withLimit(TaskQuery.MAX_LIMIT + 1))
                    .isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> manager.list(TaskQuery.all().withCursor("not a cursor")))
                    .isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> manager.list(TaskQuery.all().withCursor("eyJ4IjoxfQ")))
                    .isInstanceOf(InvalidRequestException.class);
        }

        @Test
        void nonPositiveRequestSignalsOnErrorIllegalArgument() {
            for (long n : new long[] {0, -1, Long.MIN_VALUE}) {
                RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.create();
                manager.events(waiting.id()).subscribe(sub);
                sub.awaitSubscription(WAIT);
                sub.request(n);
                assertThat(sub.awaitError(WAIT)).as("request(%d)", n).isInstanceOf(IllegalArgumentException.class);
                sub.assertNoViolations();
                assertThat(sub.items()).isEmpty();
            }
            assertThat(manager.get(waiting.id()).orElseThrow().status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        }
    }

    @Nested
    class Emit {

        @Test
        void badEventsAreRejectedAtTheRunnerAndNothingIsAppended() {
            Gate gate = gate();
            List<String> rejected = Collections.synchronizedList(new ArrayList<>());
            runner.script("coder", ScriptedAgentRunner.steps().then((turn, ctx) -> {
                attempt(rejected, "blank type", InvalidRequestException.class, () -> ctx.emit(" ", Map.of()));
                attempt(rejected, "null type", InvalidRequestException.class, () -> ctx.emit(null, Map.of()));
                attempt(rejected, "status type", InvalidRequestException.class,
                        () -> ctx.emit(TaskEvent.STATUS, Map.of("status", "completed")));
                attempt(rejected, "long type", InvalidRequestException.class,
                        () -> ctx.emit("t".repeat(TaskLimits.DEFAULT_MAX_ID_LENGTH + 1), Map.of()));
                attempt(rejected, "object value", InvalidRequestException.class,
                        () -> ctx.emit("x", Map.of("o", new Object())));
                attempt(rejected, "NaN", InvalidRequestException.class, () -> ctx.emit("x", Map.of("n", Double.NaN)));
                attempt(rejected, "oversize", PayloadTooLargeException.class,
                        () -> ctx.emit("x", Map.of("text", "e".repeat(SMALL + 1))));
                ctx.emit("ok", mapWith("nullable", null));
            }).await(gate).thenComplete());
            Task t = manager.create(TaskRequest.of("coder", "emitter"));
            gate.awaitReached(WAIT);
            gate.release();
            List<TaskEvent> log = events(t.id());
            EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
            assertThat(rejected).as("emits that were not rejected as expected").isEmpty();
            assertThat(log).filteredOn(e -> !e.isStatus()).extracting(TaskEvent::type).doesNotContain("x", " ");
            assertThat(ofTypes(log, "ok")).hasSize(1);
        }

        private void attempt(List<String> problems, String what, Class<? extends Throwable> type, Runnable emit) {
            try {
                emit.run();
                problems.add(what + ": accepted");
            } catch (Throwable e) {
                if (!type.isInstance(e)) {
                    problems.add(what + ": " + e);
                }
            }
        }
    }
}
