package dev.agenttasks.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agenttasks.RetryPolicy;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.sqlite.SqliteTaskStore;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import static dev.agenttasks.langchain4j.FakeOpenAiServer.hang;
import static dev.agenttasks.langchain4j.FakeOpenAiServer.malformed;
import static dev.agenttasks.langchain4j.FakeOpenAiServer.status;
import static dev.agenttasks.langchain4j.FakeOpenAiServer.text;
import static dev.agenttasks.langchain4j.FakeOpenAiServer.toolCall;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The runner end to end: a task manager on a SQLite file, the real LangChain4j OpenAI client, and a
 * local OpenAI-compatible server streaming scripted answers over HTTP.
 */
class LangChain4jAgentRunnerTest {

    private static final AgentDescriptor AGENT = new AgentDescriptor("assistant", "Assistant", "test-model");
    private static final Set<String> TURN_ENDS = Set.of("waiting_for_input", "completed", "failed", "cancelled");

    @TempDir
    Path dir;

    private FakeOpenAiServer server;
    private TaskStore store;
    private TaskManager manager;
    private final Weather weather = new Weather();
    private final Files files = new Files();

    /** A tool that runs freely. */
    static final class Weather {
        final AtomicInteger calls = new AtomicInteger();

        @Tool("The current weather in a city")
        String weather(@P(name = "city", value = "the city") String city) {
            calls.incrementAndGet();
            return "Sunny in " + city;
        }
    }

    /** A tool that needs approval. */
    static final class Files {
        final List<String> deleted = new ArrayList<>();

        @Tool(name = "delete_file", value = "Deletes a file")
        synchronized String delete(@P(name = "path", value = "the file") String path) {
            deleted.add(path);
            return "deleted " + path;
        }
    }

    @BeforeEach
    void startServer() throws Exception {
        server = FakeOpenAiServer.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (manager != null) {
            manager.close();
        }
        server.close();
    }

    private StreamingChatModel model() {
        return OpenAiStreamingChatModel.builder()
                .baseUrl(server.baseUrl())
                .apiKey("test-key")
                .modelName("test-model")
                .timeout(Duration.ofSeconds(20))
                .build();
    }

    private LangChain4jAgentRunner runner() {
        return LangChain4jAgentRunner.builder(AGENT)
                .model(model())
                .systemPrompt("You are a test assistant.")
                .tools(weather, files)
                .requireApproval("delete_file")
                .build();
    }

    private void open(UnaryOperator<TaskManager.Builder> config) {
        store = SqliteTaskStore.open(dir.resolve("tasks.db"));
        manager = config.apply(TaskManager.builder().store(store).runner(runner())).build();
    }

    private void open() {
        open(b -> b);
    }

    /** Closes the manager (and its store) and opens a new one on the same file: a host restart. */
    private void restart() {
        manager.close();
        manager = null;
        open();
    }

    private String create(String text) {
        return manager.create(TaskRequest.of(AGENT.id(), text)).id();
    }

    private List<TaskEvent> events(String id) {
        return store.events(id, 0, 100_000);
    }

    /** Waits until turn {@code n} of the task has ended, then returns the task. */
    private Task awaitTurnEnd(String id, int n) {
        await().atMost(20, TimeUnit.SECONDS).until(() -> events(id).stream().anyMatch(e -> e.isStatus()
                && TURN_ENDS.contains(String.valueOf(e.data().get("status")))
                && Long.valueOf(n).equals(e.data().get("turn"))));
        return store.task(id).orElseThrow().task();
    }

    private static List<Map<String, Object>> data(List<TaskEvent> events, String type) {
        return events.stream().filter(e -> e.type().equals(type)).map(TaskEvent::data).toList();
    }

    private static Optional<JsonNode> messageWithRole(JsonNode messages, String role) {
        for (JsonNode m : messages) {
            if (role.equals(m.path("role").asText())) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    private static List<String> roles(JsonNode messages) {
        List<String> out = new ArrayList<>();
        messages.forEach(m -> out.add(m.path("role").asText()));
        return out;
    }

    @Test
    void streamsTokensAsTextDeltasAndCompletesWithTheAnswer() {
        server.enqueue(text("Hel", "lo ", "there"));
        open();
        String id = create("Say hello");

        Task task = awaitTurnEnd(id, 1);

        assertThat(task.status()).as(task.error()).isEqualTo(TaskStatus.COMPLETED);
        List<TaskEvent> log = events(id);
        assertThat(data(log, AgentEvents.TEXT_DELTA)).extracting(d -> d.get("text")).containsExactly("Hel", "lo ", "there");
        assertThat(log.get(log.size() - 1).data().get("result")).isEqualTo(Map.of("text", "Hello there"));
        JsonNode request = server.requests().get(0);
        assertThat(request.path("stream").asBoolean()).isTrue();
        assertThat(roles(request.get("messages"))).containsExactly("system", "user");
        assertThat(request.get("messages").get(1).path("content").asText()).isEqualTo("Say hello");
        assertThat(request.get("tools").toString()).contains("weather", "delete_file", "ask_user");
    }

    @Test
    void runsAToolAndSendsItsResultBackToTheModel() {
        server.enqueue(toolCall("call_1", "weather", "{\"city\":\"Paris\"}"), text("It is sunny."));
        open();
        String id = create("Weather in Paris?");

        Task task = awaitTurnEnd(id, 1);

        assertThat(task.status()).as(task.error()).isEqualTo(TaskStatus.COMPLETED);
        List<TaskEvent> log = events(id);
        assertThat(data(log, AgentEvents.TOOL_CALL)).containsExactly(
                Map.of("id", "call_1", "name", "weather", "arguments", "{\"city\":\"Paris\"}"));
        assertThat(data(log, AgentEvents.TOOL_RESULT)).containsExactly(
                Map.of("id", "call_1", "name", "weather", "result", "Sunny in Paris", "outcome", "ok"));
        assertThat(weather.calls).hasValue(1);
        JsonNode second = server.messages(1);
        assertThat(roles(second)).containsExactly("system", "user", "assistant", "tool");
        assertThat(second.get(2).path("tool_calls").get(0).path("function").path("name").asText()).isEqualTo("weather");
        assertThat(second.get(3).path("tool_call_id").asText()).isEqualTo("call_1");
        assertThat(second.get(3).path("content").asText()).isEqualTo("Sunny in Paris");
    }

    @Test
    void askUserWaitsForTheAnswerAndTheAnswerBecomesTheToolResult() {
        server.enqueue(toolCall("call_q", "ask_user", "{\"question\":\"Which city?\",\"options\":[\"Paris\",\"Rome\"]}"));
        open();
        String id = create("Plan a trip");

        Task waiting = awaitTurnEnd(id, 1);

        assertThat(waiting.status()).as(waiting.error()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        TaskEvent last = events(id).get(events(id).size() - 1);
        assertThat(last.data().get("question")).isEqualTo(Map.of("type", "ask_user", "question", "Which city?",
                "options", List.of("Paris", "Rome"), "tool_call_id", "call_q"));
        assertThat(server.requests()).hasSize(1);

        server.enqueue(text("Rome it is."));
        manager.sendMessage(id, TaskMessage.text("Rome"));
        Task done = awaitTurnEnd(id, 2);

        assertThat(done.status()).as(done.error()).isEqualTo(TaskStatus.COMPLETED);
        assertThat(data(events(id), AgentEvents.TOOL_RESULT)).containsExactly(
                Map.of("id", "call_q", "name", "ask_user", "result", "Rome", "outcome", "answered"));
        JsonNode second = server.messages(1);
        assertThat(roles(second)).containsExactly("system", "user", "assistant", "tool");
        assertThat(second.get(3).path("tool_call_id").asText()).isEqualTo("call_q");
        assertThat(second.get(3).path("content").asText()).isEqualTo("Rome");
    }

    @Test
    void aDeniedCallDoesNotRunAndTheModelIsToldWhy() {
        server.enqueue(toolCall("call_d", "delete_file", "{\"path\":\"/tmp/x\"}"));
        open();
        String id = create("Clean up");

        Task waiting = awaitTurnEnd(id, 1);

        assertThat(waiting.status()).as(waiting.error()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        @SuppressWarnings("unchecked")
        Map<String, Object> question = (Map<String, Object>) events(id).get(events(id).size() - 1).data().get("question");
        assertThat(question).containsEntry("type", "approval").containsEntry("tool", "delete_file")
                .containsEntry("arguments", "{\"path\":\"/tmp/x\"}").containsEntry("options", List.of("approve", "deny"));
        assertThat(data(events(id), AgentEvents.TOOL_CALL)).singleElement()
                .satisfies(d -> assertThat(d).containsEntry("approval", "required"));

        server.enqueue(text("OK, I left it."));
        manager.sendMessage(id, TaskMessage.text("No, I still need that file"));
        Task done = awaitTurnEnd(id, 2);

        assertThat(done.status()).as(done.error()).isEqualTo(TaskStatus.COMPLETED);
        assertThat(files.deleted).isEmpty();
        assertThat(data(events(id), AgentEvents.TOOL_APPROVAL)).singleElement()
                .satisfies(d -> assertThat(d).containsEntry("approved", false));
        JsonNode tool = messageWithRole(server.messages(1), "tool").orElseThrow();
        assertThat(tool.path("content").asText()).isEqualTo("denied by the user: No, I still need that file");
    }

    @Test
    void anApprovedCallRunsOnceAndTheConversationContinues() {
        server.enqueue(toolCall("call_d", "delete_file", "{\"path\":\"/tmp/x\"}"));
        open();
        String id = create("Clean up");
        assertThat(awaitTurnEnd(id, 1).status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);

        server.enqueue(text("Deleted."));
        manager.sendMessage(id, TaskMessage.text("Approve"));
        Task done = awaitTurnEnd(id, 2);

        assertThat(done.status()).as(done.error()).isEqualTo(TaskStatus.COMPLETED);
        assertThat(files.deleted).containsExactly("/tmp/x");
        assertThat(data(events(id), AgentEvents.TOOL_RESULT)).containsExactly(
                Map.of("id", "call_d", "name", "delete_file", "result", "deleted /tmp/x", "outcome", "ok"));
        JsonNode tool = messageWithRole(server.messages(1), "tool").orElseThrow();
        assertThat(tool.path("content").asText()).isEqualTo("deleted /tmp/x");
    }

    @Test
    void theConversationSurvivesRestartsBetweenQuestionAndAnswerAndAfterIt() {
        server.enqueue(toolCall("call_w", "weather", "{\"city\":\"Oslo\"}"),
                toolCall("call_q", "ask_user", "{\"question\":\"Pack an umbrella?\"}"));
        open();
        String id = create("Prepare my trip to Oslo");
        assertThat(awaitTurnEnd(id, 1).status()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);

        restart();
        server.enqueue(toolCall("call_q2", "ask_user", "{\"question\":\"Book a hotel?\"}"));
        manager.sendMessage(id, TaskMessage.text("No"));
        Task second = awaitTurnEnd(id, 2);

        assertThat(second.status()).as(second.error()).isEqualTo(TaskStatus.WAITING_FOR_INPUT);
        JsonNode third = server.messages(2);
        assertThat(roles(third)).containsExactly("system", "user", "assistant", "tool", "assistant", "tool");
        assertThat(third.get(3).path("content").asText()).isEqualTo("Sunny in Oslo");
        assertThat(third.get(4).path("tool_calls").get(0).path("id").asText()).isEqualTo("call_q");
        assertThat(third.get(5).path("tool_call_id").asText()).isEqualTo("call_q");
        assertThat(third.get(5).path("content").asText()).isEqualTo("No");
        assertThat(weather.calls).as("a restart does not run a finished tool again").hasValue(1);

        restart();
        server.enqueue(text("Booked."));
        manager.sendMessage(id, TaskMessage.text("Yes, near the station"));
        Task done = awaitTurnEnd(id, 3);

        assertThat(done.status()).as(done.error()).isEqualTo(TaskStatus.COMPLETED);
        JsonNode fourth = server.messages(3);
        assertThat(roles(fourth)).containsExactly("system", "user", "assistant", "tool", "assistant", "tool",
                "assistant", "tool");
        assertThat(fourth.get(1).path("content").asText()).isEqualTo("Prepare my trip to Oslo");
        assertThat(fourth.get(7).path("tool_call_id").asText()).isEqualTo("call_q2");
        assertThat(fourth.get(7).path("content").asText()).isEqualTo("Yes, near the station");
        assertThat(weather.calls).hasValue(1);
    }

    @Test
    void cancelClosesTheStreamingConnection() throws Exception {
        CompletableFuture<Void> streaming = new CompletableFuture<>();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        server.enqueue(hang("Thinking", streaming, closed));
        open();
        String id = create("Think hard");
        streaming.get(20, TimeUnit.SECONDS);
        await().atMost(20, TimeUnit.SECONDS).until(() -> !data(events(id), AgentEvents.TEXT_DELTA).isEmpty());

        manager.cancel(id);

        closed.get(10, TimeUnit.SECONDS);
        assertThat(awaitTurnEnd(id, 1).status()).isEqualTo(TaskStatus.CANCELLED);
    }

    @Test
    void theTurnTimeoutClosesTheStreamingConnectionAndFailsTheTask() throws Exception {
        CompletableFuture<Void> streaming = new CompletableFuture<>();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        server.enqueue(hang("Thinking", streaming, closed));
        open(b -> b.defaultTimeout(Duration.ofSeconds(2)));
        String id = create("Think forever");

        closed.get(20, TimeUnit.SECONDS);
        Task task = awaitTurnEnd(id, 1);

        assertThat(task.status()).isEqualTo(TaskStatus.FAILED);
        assertThat(task.error()).contains("timeout");
    }

    /** Short real delays: these tests wait for the outcome, never for a delay (core's RetryTest drives time). */
    private static RetryPolicy quickRetries(int attempts) {
        return RetryPolicy.builder().initialInterval(Duration.ofMillis(10)).maxAttempts(attempts).build();
    }

    @Test
    void aServerErrorUntilTheAttemptsRunOutFailsTheTaskWithStatusAndProviderMessage() {
        String overloaded = "{\"error\":{\"message\":\"upstream overloaded\",\"type\":\"server_error\"}}";
        server.enqueue(status(500, overloaded), status(500, overloaded), status(500, overloaded));
        open(b -> b.retryPolicy(quickRetries(3)));
        String id = create("Hello");

        Task task = awaitTurnEnd(id, 1);

        assertThat(task.status()).isEqualTo(TaskStatus.FAILED);
        assertThat(task.error()).isEqualTo("model call failed: HTTP 500 (server error): upstream overloaded");
        assertThat(server.requests()).as("three attempts").hasSize(3);
        List<Map<String, Object>> retries = data(events(id), "retry");
        assertThat(retries).extracting(r -> r.get("attempt")).containsExactly(1L, 2L);
        assertThat(retries).allSatisfy(r -> assertThat(r).containsEntry("max_attempts", 3L)
                .containsEntry("error", "model call failed: HTTP 500 (server error): upstream overloaded"));
    }

    @Test
    void aRateLimitIsRetriedAndTheTurnThenCompletes() {
        server.enqueue(status(429, "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"rate_limit_error\"}}"),
                text("Hi", " there"));
        open(b -> b.retryPolicy(quickRetries(5)));
        String id = create("Hello");

        Task task = awaitTurnEnd(id, 1);

        assertThat(task.status()).as(task.error()).isEqualTo(TaskStatus.COMPLETED);
        List<TaskEvent> log = events(id);
        assertThat(data(log, "retry")).singleElement().satisfies(r -> assertThat(r)
                .containsEntry("turn", 1L).containsEntry("attempt", 1L).containsEntry("delay_ms", 10L)
                .containsKey("next_attempt_at")
                .hasEntrySatisfying("error", e -> assertThat((String) e).contains("HTTP 429").contains("Rate limit reached")));
        assertThat(log.stream().filter(TaskEvent::isStatus).map(e -> e.data().get("status")))
                .containsExactly("pending", "running", "pending", "running", "completed");
        assertThat(data(log, AgentEvents.ASSISTANT_MESSAGE)).singleElement()
                .satisfies(m -> assertThat(m).containsEntry("text", "Hi there"));
        assertThat(server.requests()).hasSize(2);
        assertThat(server.messages(1)).as("the retry sends the same conversation").isEqualTo(server.messages(0));
    }

    @Test
    void aRetryWaitingAtARestartRunsUnderTheNextManager() {
        server.enqueue(status(429, "{\"error\":{\"message\":\"Rate limit reached\"}}"), text("Back", " again"));
        // the first host's timer thread is stuck: its retry can not run before the restart
        ScheduledExecutorService stalled = Executors.newSingleThreadScheduledExecutor();
        CountDownLatch unstick = new CountDownLatch(1);
        stalled.execute(() -> {
            try {
                unstick.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Task task;
        try {
            open(b -> b.scheduler(stalled));
            String id = manager.create(TaskRequest.builder(AGENT.id()).text("Hello")
                    .retryPolicy(RetryPolicy.builder().initialInterval(Duration.ofMillis(100)).maxAttempts(2).build())
                    .build()).id();
            await().atMost(20, TimeUnit.SECONDS).until(() -> !data(events(id), "retry").isEmpty());
            assertThat(server.requests()).hasSize(1);

            restart(); // the SQLite file holds the retry event with its time and the task's own policy

            task = awaitTurnEnd(id, 1);
        } finally {
            unstick.countDown();
            stalled.shutdownNow();
        }
        String id = task.id();
        assertThat(task.status()).as(task.error()).isEqualTo(TaskStatus.COMPLETED);
        assertThat(data(events(id), "retry_policy")).singleElement()
                .satisfies(p -> assertThat(p).containsEntry("max_attempts", 2L).containsEntry("initial_interval_ms", 100L));
        assertThat(data(events(id), AgentEvents.ASSISTANT_MESSAGE)).singleElement()
                .satisfies(m -> assertThat(m).containsEntry("text", "Back again"));
        assertThat(server.messages(1)).isEqualTo(server.messages(0));
    }

    @Test
    void aMalformedStreamFailsTheTaskWithAClearMessage() {
        server.enqueue(malformed());
        open();
        String id = create("Hello");

        Task task = awaitTurnEnd(id, 1);

        assertThat(task.status()).isEqualTo(TaskStatus.FAILED);
        assertThat(task.error()).startsWith("model call failed: the model's stream could not be read: ")
                .contains("Unexpected end-of-input");
    }
}
