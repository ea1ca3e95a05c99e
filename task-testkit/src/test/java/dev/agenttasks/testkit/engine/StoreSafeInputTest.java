package dev.agenttasks.testkit.engine;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Input a store would silently change (issue 7, part 4) is rejected with {@link InvalidRequestException},
 * naming the field, before anything is written; what it lets through reads back unchanged.
 */
class StoreSafeInputTest extends EngineTestBase {

    private static final String LONE_HIGH = "a\uD83Db";
    private static final String LONE_LOW = "a\uDE00b";

    @BeforeEach
    void startManager() {
        start();
    }

    private void rejected(Runnable call, String field) {
        int writes = storeHandle.writes();
        int tasks = data.list(TaskQuery.all().withLimit(1000), null, 1000).size();
        assertThatThrownBy(call::run).isInstanceOfSatisfying(InvalidRequestException.class,
                e -> assertThat(e.field()).isEqualTo(field));
        assertThat(storeHandle.writes()).as("store writes").isEqualTo(writes);
        assertThat(data.list(TaskQuery.all().withLimit(1000), null, 1000)).hasSize(tasks);
    }

    private void createRejected(Function<TaskRequest.Builder, TaskRequest.Builder> request, String field) {
        rejected(() -> manager.create(request.apply(TaskRequest.builder("coder").text("hi")).build()), field);
    }

    @ParameterizedTest
    @ValueSource(strings = {LONE_HIGH, LONE_LOW, "\uD83D", "end\uD83D", "\uDE00\uD83D"})
    void loneSurrogatesAreRejectedEverywhere(String bad) {
        createRejected(b -> b.text(bad), "message");
        createRejected(b -> b.title(bad), "title");
        createRejected(b -> b.workDir(bad), "work_dir");
        createRejected(b -> b.metadata("k", bad), "metadata");
        createRejected(b -> b.metadata(bad, "v"), "metadata");
        createRejected(b -> b.option("o", bad), "options");
        createRejected(b -> b.option(bad, 1), "options");
        createRejected(b -> b.option("nested", Map.of("list", List.of("ok", bad))), "options");
        createRejected(b -> b.message(TaskMessage.content(List.of(Map.of("type", "text", "text", bad)))), "content");
        createRejected(b -> b.message(TaskMessage.content(List.of(Map.of("type", "image", "alt", bad)))), "content");
        rejected(() -> manager.create(TaskRequest.of("cod" + bad, "hi")), "agent_id");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\u0000", "\u0007", "\u001b[31m", "\u007f", "\u0085", "\u009b"})
    void controlCharactersAreRejectedInTextFields(String control) {
        String bad = "x" + control + "y";
        createRejected(b -> b.text(bad), "message");
        createRejected(b -> b.title(bad), "title");
        createRejected(b -> b.workDir(bad), "work_dir");
        createRejected(b -> b.metadata("k", bad), "metadata");
        createRejected(b -> b.metadata(bad, "v"), "metadata");
        createRejected(b -> b.message(TaskMessage.content(List.of(Map.of("type", "text", "text", bad)))), "content");
        rejected(() -> manager.create(TaskRequest.of(bad, "hi")), "agent_id");
    }

    @Test
    void lineBreaksAndTabsAreRejectedOutsideMessageText() {
        for (String c : List.of("\t", "\n", "\r")) {
            createRejected(b -> b.title("a" + c + "b"), "title");
            createRejected(b -> b.metadata("k", "a" + c + "b"), "metadata");
        }
    }

    @Test
    void messageTextKeepsTabsAndLineBreaksAndEveryValidCharacter() throws Exception {
        String text = "line 1\r\nline 2\n\tindented 🚀 Grüße \u200B zero-width inside";
        Map<String, Object> options = Map.of("raw", "json escapes \u0000 and \u0007 and \u001b", "emoji", "😀");
        Task t = manager.create(TaskRequest.builder("coder").text(text).title("A 🚀 title").workDir("/tmp/ü")
                .metadata("ключ", "значение 😀").options(options).build());
        Task done = manager.whenFinished(t.id()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(done.title()).isEqualTo("A 🚀 title");
        assertThat(done.workDir()).isEqualTo("/tmp/ü");
        assertThat(done.metadata()).containsEntry("ключ", "значение 😀");
        assertThat(runner.turns(t.id()).get(0).message().text()).isEqualTo(text);
        assertThat(runner.turns(t.id()).get(0).options()).isEqualTo(options);
        TaskEvent first = ofTypes(storedEvents(t.id()), "user_message").get(0);
        assertThat(first.data().get("text")).isEqualTo(text);
    }

    @Test
    void messageTextOrTitleOfOnlyInvisibleCharactersIsEmpty() {
        for (String invisible : List.of("\u200B", "\u200B\u200D\u2060", "\uFEFF", "\u00A0\u3000", "\u3164",
                "\u2800", "\u034F", "\uFE0F", "\u202E", "\u00AD")) {
            createRejected(b -> b.title(invisible), "title");
            createRejected(b -> b.text(invisible), "message");
        }
        // a visible character anywhere is enough
        assertThat(manager.create(TaskRequest.builder("coder").text("\u200Bx").title("\u200B.").build()).title())
                .isEqualTo("\u200B.");
    }

    @Test
    void aTextBlockWithOnlyInvisibleTextIsTitledAsAnAttachment() {
        Task t = manager.create(TaskRequest.builder("coder").message(TaskMessage.content(List.of(
                Map.of("type", "text", "text", "\u200B\u200B"), Map.of("type", "image", "url", "x")))).build());
        assertThat(t.title()).isEqualTo("[Attachment message]");
    }

    @Test
    void followUpMessagesAreCheckedTheSameWay() {
        runner.script("coder", ScriptedAgentRunner.steps().thenAskForInput(Map.of("q", "?")));
        Task t = manager.create(TaskRequest.of("coder", "hi"));
        awaitStatus(t.id(), TaskStatus.WAITING_FOR_INPUT);
        rejected(() -> manager.sendMessage(t.id(), TaskMessage.text("a\u0000b")), "message");
        rejected(() -> manager.sendMessage(t.id(), TaskMessage.text(LONE_HIGH)), "message");
        rejected(() -> manager.sendMessage(t.id(), TaskMessage.text("\u200B")), "message");
        assertThat(manager.get(t.id()).orElseThrow().status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
    }

    @Test
    void aRunnerGetsTheSameRulesForItsEventsSessionAndResult() throws Exception {
        List<String> fields = new ArrayList<>();
        runner.script("coder", (turn, ctx) -> {
            for (Runnable r : List.<Runnable>of(
                    () -> ctx.emit("tok\u0000en", Map.of()),
                    () -> ctx.emit("token", Map.of("text", LONE_LOW)),
                    () -> ctx.sessionId("s\u0001"))) {
                try {
                    r.run();
                    fields.add("accepted");
                } catch (InvalidRequestException e) {
                    fields.add(e.field());
                }
            }
            ctx.emit("token", Map.of("text", "fine \u0000 inside JSON"));
            return TurnResult.completed(Map.of("answer", LONE_HIGH));
        });
        Task t = manager.create(TaskRequest.of("coder", "hi"));
        Task done = manager.whenFinished(t.id()).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(fields).containsExactly("type", "data", "session_id");
        assertThat(done.status()).isEqualTo(TaskStatus.FAILED);
        assertThat(done.error()).contains("result");
        assertThat(ofTypes(storedEvents(t.id()), "token")).singleElement()
                .satisfies(e -> assertThat(e.data().get("text")).isEqualTo("fine \u0000 inside JSON"));
    }
}
