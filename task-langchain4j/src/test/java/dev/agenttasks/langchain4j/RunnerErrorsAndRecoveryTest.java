package dev.agenttasks.langchain4j;

import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnResult;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.agenttasks.langchain4j.FakeOpenAiServer.status;
import static dev.agenttasks.langchain4j.FakeOpenAiServer.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.type;

/**
 * The runner driven directly (no manager): how model failures are classified for a retry policy, and
 * how a log left by a host that stopped mid-turn is continued.
 */
class RunnerErrorsAndRecoveryTest {

    private static final AgentDescriptor AGENT = new AgentDescriptor("assistant", "Assistant", "test-model");

    private FakeOpenAiServer server;
    private final Counter counter = new Counter();

    /** A tool that counts its runs. */
    static final class Counter {
        final AtomicInteger runs = new AtomicInteger();

        @Tool("Counts")
        String count(@P(name = "n", value = "a number") int n) {
            return "counted " + runs.addAndGet(n);
        }
    }

    @BeforeEach
    void start() throws Exception {
        server = FakeOpenAiServer.start();
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
    }

    private LangChain4jAgentRunner runner(String baseUrl) {
        return LangChain4jAgentRunner.builder(AGENT)
                .model(OpenAiStreamingChatModel.builder().baseUrl(baseUrl).apiKey("k").modelName("test-model")
                        .timeout(Duration.ofSeconds(20)).build())
                .tools(counter)
                .build();
    }

    private static Turn turn(int n) {
        return new Turn("task_1", AGENT.id(), n, null, null, Map.of(), null, false);
    }

    private ModelCallException failure(int status, String body) {
        server.enqueue(status(status, body));
        LogContext ctx = new LogContext().add("user_message", Map.of("turn", 1L, "text", "hi"));
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> runner(server.baseUrl()).runTurn(turn(1), ctx));
        assertThat(t).isInstanceOf(ModelCallException.class);
        return (ModelCallException) t;
    }

    @Test
    void rateLimitsAndServerErrorsAreTransientWithStatusAndProviderMessage() {
        ModelCallException limited = failure(429, "{\"error\":{\"message\":\"Rate limit reached\"}}");
        assertThat(limited.isTransient()).isTrue();
        assertThat(limited.statusCode()).isEqualTo(429);
        assertThat(limited.providerMessage()).isEqualTo("Rate limit reached");
        assertThat(limited).hasMessage("model call failed: HTTP 429 (rate limited): Rate limit reached");

        ModelCallException unavailable = failure(503, "upstream unavailable");
        assertThat(unavailable.isTransient()).isTrue();
        assertThat(unavailable).hasMessage("model call failed: HTTP 503 (server error): upstream unavailable");
    }

    @Test
    void clientErrorsAreNotTransient() {
        ModelCallException auth = failure(401, "{\"error\":{\"message\":\"Incorrect API key provided\"}}");
        assertThat(auth.isTransient()).isFalse();
        assertThat(auth).hasMessage("model call failed: HTTP 401 (not authorised): Incorrect API key provided");

        ModelCallException bad = failure(400, "{\"error\":{\"message\":\"Unknown parameter\"}}");
        assertThat(bad.isTransient()).isFalse();
        assertThat(bad.statusCode()).isEqualTo(400);
    }

    @Test
    void aRefusedConnectionIsTransientWithoutAStatus() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        LogContext ctx = new LogContext().add("user_message", Map.of("turn", 1L, "text", "hi"));

        assertThatThrownBy(() -> runner("http://127.0.0.1:" + port + "/v1").runTurn(turn(1), ctx))
                .asInstanceOf(type(ModelCallException.class))
                .satisfies(e -> {
                    assertThat(e.isTransient()).isTrue();
                    assertThat(e.statusCode()).isEqualTo(-1);
                    assertThat(e.getMessage()).startsWith("model call ");
                });
    }

    @Test
    void aToolThatWasRunningWhenTheHostStoppedIsNotRunAgain() throws Exception {
        LogContext ctx = new LogContext()
                .add("user_message", Map.of("turn", 1L, "text", "count twice"))
                .add(AgentEvents.ASSISTANT_MESSAGE, Map.of("tool_calls", List.of(
                        Map.of("id", "c1", "name", "count", "arguments", "{\"n\":1}"),
                        Map.of("id", "c2", "name", "count", "arguments", "{\"n\":1}"))))
                .add(AgentEvents.TOOL_CALL, Map.of("id", "c1", "name", "count", "arguments", "{\"n\":1}"));
        server.enqueue(text("Done."));

        TurnResult result = runner(server.baseUrl()).runTurn(
                new Turn("task_1", AGENT.id(), 1, null, null, Map.of(), null, true), ctx);

        assertThat(result.kind()).isEqualTo(TurnResult.Kind.COMPLETED);
        assertThat(counter.runs).as("c1 was interrupted and is not run again; c2 never started and runs").hasValue(1);
        assertThat(ctx.data(AgentEvents.TOOL_RESULT)).extracting(d -> d.get("id") + "=" + d.get("outcome"))
                .containsExactly("c1=interrupted", "c2=ok");
        assertThat(server.messages(0).toString()).contains("it was not run again", "counted 1");
    }

    @Test
    void aMessageSentWhileACallWaitsIsTheAnswerAndLaterOnesStayMessages() throws Exception {
        LogContext ctx = new LogContext()
                .add("user_message", Map.of("turn", 1L, "text", "plan"))
                .add(AgentEvents.ASSISTANT_MESSAGE, Map.of("tool_calls", List.of(
                        Map.of("id", "q", "name", "ask_user", "arguments", "{\"question\":\"When?\"}"))))
                .add(AgentEvents.TOOL_CALL, Map.of("id", "q", "name", "ask_user", "arguments", "{\"question\":\"When?\"}"))
                .add("user_message", Map.of("turn", 2L, "text", "Monday"))
                .add("user_message", Map.of("turn", 3L, "text", "and book a table"));
        server.enqueue(text("Booked for Monday."));

        TurnResult result = runner(server.baseUrl()).runTurn(turn(2), ctx);

        assertThat(result.kind()).isEqualTo(TurnResult.Kind.COMPLETED);
        var messages = server.messages(0);
        assertThat(messages.toString()).doesNotContain("\"role\":\"system\"");
        assertThat(messages.get(2).path("role").asText()).isEqualTo("tool");
        assertThat(messages.get(2).path("content").asText()).isEqualTo("Monday");
        assertThat(messages.get(3).path("role").asText()).isEqualTo("user");
        assertThat(messages.get(3).path("content").asText()).isEqualTo("and book a table");
    }

    @Test
    void anUnknownToolGetsAnErrorResultAndAToolLoopStopsAtTheLimit() {
        server.enqueue(FakeOpenAiServer.toolCall("c1", "no_such_tool", "{}"),
                FakeOpenAiServer.toolCall("c2", "count", "{\"n\":2}"));
        LogContext ctx = new LogContext().add("user_message", Map.of("turn", 1L, "text", "loop"));
        LangChain4jAgentRunner runner = LangChain4jAgentRunner.builder(AGENT)
                .model(OpenAiStreamingChatModel.builder().baseUrl(server.baseUrl()).apiKey("k").modelName("m").build())
                .tools(counter).maxModelCalls(2).build();

        assertThatThrownBy(() -> runner.runTurn(turn(1), ctx)).isInstanceOf(IllegalStateException.class)
                .hasMessage("the model was still calling tools after 2 model calls in one turn (the runner's maxModelCalls limit)");
        assertThat(ctx.data(AgentEvents.TOOL_RESULT)).extracting(d -> d.get("outcome") + ": " + d.get("result"))
                .containsExactly("error: error: there is no tool named no_such_tool", "ok: counted 2");
        assertThat(server.requests()).hasSize(2);
    }

    @Test
    void theBuilderRejectsBadConfiguration() {
        assertThatThrownBy(() -> LangChain4jAgentRunner.builder(AGENT).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("model");
        var b = LangChain4jAgentRunner.builder(AGENT)
                .model(OpenAiStreamingChatModel.builder().baseUrl("http://127.0.0.1:1/v1").apiKey("k").modelName("m").build());
        assertThatThrownBy(() -> b.requireApproval("nope").build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("nope");
        assertThatThrownBy(() -> LangChain4jAgentRunner.builder(AGENT).tools(new Object()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no @Tool method");
        assertThatThrownBy(() -> LangChain4jAgentRunner.builder(AGENT).tools(counter, counter))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("count");
    }
}
