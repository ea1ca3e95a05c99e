package dev.agenttasks.examples;

import dev.agenttasks.TaskLimits;
import dev.agenttasks.langchain4j.LangChain4jAgentRunner;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Tasks page with a real {@link LangChain4jAgentRunner} (on a scripted chat model, no network): tool
 * calls and their results are shown readably, an approval request has Approve/Deny buttons that send the
 * reply the runner expects, and an {@code ask_user} question's options are buttons.
 */
class BrowserToolCallsTest {

    private static final AgentDescriptor ASSISTANT = new AgentDescriptor("assistant", "Assistant", "scripted-model");

    @TempDir
    Path profile;

    private final FileTool files = new FileTool();
    private HostFixture host;
    private TasksPage page;
    private WebDriver driver;
    private WebDriverWait wait;

    /** A tool that runs freely. */
    static final class Weather {
        @Tool("The current weather in a city")
        String weather(@P(name = "city", value = "the city") String city) {
            return "Sunny in " + city;
        }
    }

    /** A tool that needs approval; records what it deleted. */
    static final class FileTool {
        final List<String> deleted = new ArrayList<>();

        @Tool(name = "delete_file", value = "Deletes a file")
        synchronized String delete(@P(name = "path", value = "the file") String path) {
            deleted.add(path);
            return "deleted " + path;
        }

        synchronized List<String> deleted() {
            return List.copyOf(deleted);
        }
    }

    /**
     * A chat model that plays a script chosen by the user's first message: "ask ..." asks the user with
     * options, anything else calls {@code weather}, then {@code delete_file}, then answers with the last result.
     */
    static final class ScriptedModel implements StreamingChatModel {
        @Override
        public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
            List<ChatMessage> messages = request.messages();
            String first = messages.stream().filter(m -> m instanceof UserMessage).map(m -> ((UserMessage) m).singleText())
                    .findFirst().orElse("");
            List<ToolExecutionResultMessage> results = messages.stream().filter(m -> m instanceof ToolExecutionResultMessage)
                    .map(m -> (ToolExecutionResultMessage) m).toList();
            AiMessage reply;
            if (first.startsWith("ask") && results.isEmpty()) {
                reply = AiMessage.from(call("call_q", "ask_user", "{\"question\":\"Which city?\",\"options\":[\"Paris\",\"Rome\"]}"));
            } else if (!first.startsWith("ask") && results.isEmpty()) {
                reply = AiMessage.from(call("call_w", "weather", "{\"city\":\"Paris\"}"));
            } else if (!first.startsWith("ask") && results.size() == 1) {
                reply = AiMessage.from(call("call_d", "delete_file", "{\"path\":\"/tmp/report.txt\"}"));
            } else {
                String text = "Finished: " + results.get(results.size() - 1).text();
                handler.onPartialResponse(new PartialResponse(text), null);
                reply = AiMessage.from(text);
            }
            handler.onCompleteResponse(ChatResponse.builder().aiMessage(reply).build());
        }

        private static ToolExecutionRequest call(String id, String name, String arguments) {
            return ToolExecutionRequest.builder().id(id).name(name).arguments(arguments).build();
        }
    }

    /** The bundled agents, plus "assistant": the LangChain4j runner on the scripted model. */
    static final class WithAssistant implements AgentRunner {
        private final AgentRunner bundled;
        private final AgentRunner assistant;

        WithAssistant(AgentRunner bundled, AgentRunner assistant) {
            this.bundled = bundled;
            this.assistant = assistant;
        }

        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return ASSISTANT.id().equals(agentId) ? assistant.describe(agentId) : bundled.describe(agentId);
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
            return (ASSISTANT.id().equals(turn.agentId()) ? assistant : bundled).runTurn(turn, context);
        }
    }

    @BeforeEach
    void start() {
        TasksPage.assumeInstalled();
        HostConfig config = HostConfig.builder().port(0).heartbeatInterval(Duration.ofMillis(500))
                .demoTokenDelay(Duration.ofMillis(2)).build();
        LangChain4jAgentRunner assistant = LangChain4jAgentRunner.builder(ASSISTANT).model(new ScriptedModel())
                .systemPrompt("You are a test assistant.").tools(new Weather(), files).requireApproval("delete_file")
                .build();
        host = HostFixture.start(config, new WithAssistant(new CatalogAgentRunner(AgentCatalog.bundled(),
                config.demoTokenDelay()), assistant), TaskLimits.defaults());
        page = new TasksPage(profile, "chromedriver-tools.log");
        driver = page.driver;
        wait = page.wait;
    }

    @AfterEach
    void stop() {
        if (page != null) {
            page.close();
        }
        if (host != null) {
            host.close();
        }
    }

    private String create(String message) {
        java.net.http.HttpResponse<String> r = host.postJson("/api/tasks",
                "{\"agent_id\":\"assistant\",\"message\":" + Json.string(message) + "}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return HostFixture.json(r.body()).get("id").asText();
    }

    private void open(String id) {
        driver.get(host.base.resolve("/?task=" + id).toString());
        wait.until(d -> id.equals(d.findElement(By.id("task-view")).getAttribute("data-task-id")));
    }

    @Test
    void toolCallsAreShownAndApproveRunsTheToolThatWaitedForApproval() throws Exception {
        String id = create("Clean up the report");
        open(id);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("approval-box")));
        assertThat(driver.findElement(By.id("question-box")).isDisplayed()).isFalse();
        assertThat(page.text(By.id("approval-tool"))).isEqualTo("delete_file");
        assertThat(page.text(By.id("approval-args"))).contains("/tmp/report.txt");
        WebElement weather = tool("weather");
        assertThat(weather.getAttribute("data-state")).isEqualTo("ok");
        assertThat(weather.findElement(By.className("tool-args")).getText()).isEqualTo("{\"city\":\"Paris\"}");
        assertThat(weather.findElement(By.className("tool-result")).getText()).isEqualTo("Sunny in Paris");
        assertThat(tool("delete_file").getAttribute("data-state")).isEqualTo("approval");
        assertThat(page.text(By.id("task-output"))).contains("[tool] weather {\"city\":\"Paris\"}")
                .contains("[ok] weather → Sunny in Paris").contains("[tool] delete_file");
        assertThat(driver.findElements(By.cssSelector("#task-events li[data-type='tool_call'] .edata")))
                .extracting(WebElement::getText).contains("weather {\"city\":\"Paris\"}");
        page.screenshot("tasks-page-approval.png");

        driver.findElement(By.id("approve-btn")).click();
        wait.until(d -> "completed".equals(page.statusInView()));
        wait.until(d -> "ok".equals(tool("delete_file").getAttribute("data-state")));
        assertThat(tool("delete_file").findElement(By.className("tool-result")).getText())
                .isEqualTo("deleted /tmp/report.txt");
        assertThat(files.deleted()).containsExactly("/tmp/report.txt");
        assertThat(page.text(By.id("task-output"))).contains("> approve").contains("Finished: deleted /tmp/report.txt");
        assertThat(driver.findElement(By.id("answer-box")).isDisplayed()).isFalse();
        page.screenshot("tasks-page-tool-calls.png");
    }

    @Test
    void denyTellsTheModelAndTheToolDoesNotRun() {
        String id = create("Clean up the report");
        open(id);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("deny-btn")));
        driver.findElement(By.id("deny-btn")).click();
        wait.until(d -> "completed".equals(page.statusInView()));
        wait.until(d -> "denied".equals(tool("delete_file").getAttribute("data-state")));
        assertThat(tool("delete_file").findElement(By.className("tool-result")).getText()).isEqualTo("denied by the user");
        assertThat(files.deleted()).isEmpty();
        assertThat(page.text(By.id("task-output"))).contains("> deny").contains("Finished: denied by the user");
    }

    @Test
    void anAskUserQuestionShowsItsOptionsAsButtons() {
        String id = create("ask me where to go");
        open(id);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("question-box")));
        assertThat(driver.findElement(By.id("approval-box")).isDisplayed()).isFalse();
        assertThat(page.text(By.id("question-text"))).isEqualTo("Which city?");
        wait.until(d -> d.findElements(By.cssSelector("#question-options button")).size() == 2);
        assertThat(driver.findElements(By.cssSelector("#question-options button"))).extracting(WebElement::getText)
                .containsExactly("Paris", "Rome");
        driver.findElements(By.cssSelector("#question-options button")).get(1).click();
        wait.until(d -> "completed".equals(page.statusInView()));
        assertThat(page.text(By.id("task-output"))).contains("> Rome").contains("Finished: Rome");
        assertThat(tool("ask_user").getAttribute("data-state")).isEqualTo("answered");
    }

    private WebElement tool(String name) {
        return wait.until(d -> {
            List<WebElement> found = d.findElements(By.cssSelector("#task-tools li[data-tool='" + name + "']"));
            return found.isEmpty() ? null : found.get(0);
        });
    }

}
