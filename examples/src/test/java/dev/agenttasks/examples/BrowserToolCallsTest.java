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
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
    private ChromeDriverService service;
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
        assumeTrue(java.nio.file.Files.isExecutable(BrowserTest.CHROMIUM)
                        && java.nio.file.Files.isExecutable(BrowserTest.CHROMEDRIVER),
                "headless Chromium is not installed (apt-get install chromium chromium-driver)");
        HostConfig config = HostConfig.builder().port(0).heartbeatInterval(Duration.ofMillis(500))
                .demoTokenDelay(Duration.ofMillis(2)).build();
        LangChain4jAgentRunner assistant = LangChain4jAgentRunner.builder(ASSISTANT).model(new ScriptedModel())
                .systemPrompt("You are a test assistant.").tools(new Weather(), files).requireApproval("delete_file")
                .build();
        host = HostFixture.start(config, new WithAssistant(new CatalogAgentRunner(AgentCatalog.bundled(),
                config.demoTokenDelay()), assistant), TaskLimits.defaults());
        service = new ChromeDriverService.Builder().usingDriverExecutable(BrowserTest.CHROMEDRIVER.toFile())
                .usingAnyFreePort().withLogFile(new File("target/chromedriver-tools.log")).build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BrowserTest.CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile.toAbsolutePath(), "--window-size=1400,1000", "--lang=en-US");
        driver = new ChromeDriver(service, options);
        wait = new WebDriverWait(driver, Duration.ofSeconds(60));
        wait.ignoring(StaleElementReferenceException.class); // the tool cards are redrawn as events arrive
    }

    @AfterEach
    void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (service != null) {
            service.stop();
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
        assertThat(text(By.id("approval-tool"))).isEqualTo("delete_file");
        assertThat(text(By.id("approval-args"))).contains("/tmp/report.txt");
        WebElement weather = tool("weather");
        assertThat(weather.getAttribute("data-state")).isEqualTo("ok");
        assertThat(weather.findElement(By.className("tool-args")).getText()).isEqualTo("{\"city\":\"Paris\"}");
        assertThat(weather.findElement(By.className("tool-result")).getText()).isEqualTo("Sunny in Paris");
        assertThat(tool("delete_file").getAttribute("data-state")).isEqualTo("approval");
        assertThat(text(By.id("task-output"))).contains("[tool] weather {\"city\":\"Paris\"}")
                .contains("[ok] weather → Sunny in Paris").contains("[tool] delete_file");
        assertThat(driver.findElements(By.cssSelector("#task-events li[data-type='tool_call'] .edata")))
                .extracting(WebElement::getText).contains("weather {\"city\":\"Paris\"}");
        screenshot("tasks-page-approval.png");

        driver.findElement(By.id("approve-btn")).click();
        wait.until(d -> "completed".equals(statusInView()));
        wait.until(d -> "ok".equals(tool("delete_file").getAttribute("data-state")));
        assertThat(tool("delete_file").findElement(By.className("tool-result")).getText())
                .isEqualTo("deleted /tmp/report.txt");
        assertThat(files.deleted()).containsExactly("/tmp/report.txt");
        assertThat(text(By.id("task-output"))).contains("> approve").contains("Finished: deleted /tmp/report.txt");
        assertThat(driver.findElement(By.id("answer-box")).isDisplayed()).isFalse();
        screenshot("tasks-page-tool-calls.png");
    }

    @Test
    void denyTellsTheModelAndTheToolDoesNotRun() {
        String id = create("Clean up the report");
        open(id);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("deny-btn")));
        driver.findElement(By.id("deny-btn")).click();
        wait.until(d -> "completed".equals(statusInView()));
        wait.until(d -> "denied".equals(tool("delete_file").getAttribute("data-state")));
        assertThat(tool("delete_file").findElement(By.className("tool-result")).getText()).isEqualTo("denied by the user");
        assertThat(files.deleted()).isEmpty();
        assertThat(text(By.id("task-output"))).contains("> deny").contains("Finished: denied by the user");
    }

    @Test
    void anAskUserQuestionShowsItsOptionsAsButtons() {
        String id = create("ask me where to go");
        open(id);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("question-box")));
        assertThat(driver.findElement(By.id("approval-box")).isDisplayed()).isFalse();
        assertThat(text(By.id("question-text"))).isEqualTo("Which city?");
        wait.until(d -> d.findElements(By.cssSelector("#question-options button")).size() == 2);
        assertThat(driver.findElements(By.cssSelector("#question-options button"))).extracting(WebElement::getText)
                .containsExactly("Paris", "Rome");
        driver.findElements(By.cssSelector("#question-options button")).get(1).click();
        wait.until(d -> "completed".equals(statusInView()));
        assertThat(text(By.id("task-output"))).contains("> Rome").contains("Finished: Rome");
        assertThat(tool("ask_user").getAttribute("data-state")).isEqualTo("answered");
    }

    private WebElement tool(String name) {
        return wait.until(d -> {
            List<WebElement> found = d.findElements(By.cssSelector("#task-tools li[data-tool='" + name + "']"));
            return found.isEmpty() ? null : found.get(0);
        });
    }

    private String text(By by) {
        return wait.until(d -> {
            try {
                return d.findElement(by).getText();
            } catch (StaleElementReferenceException e) {
                return null;
            }
        });
    }

    private String statusInView() {
        for (int i = 0; ; i++) {
            try {
                List<WebElement> badge = driver.findElements(By.cssSelector("#view-status .status-badge"));
                return badge.isEmpty() ? null : badge.get(0).getAttribute("data-status");
            } catch (StaleElementReferenceException e) {
                if (i > 20) {
                    throw e;
                }
            }
        }
    }

    private void screenshot(String name) throws Exception {
        java.nio.file.Files.createDirectories(BrowserTest.SCREENSHOTS);
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        java.nio.file.Files.copy(shot.toPath(), BrowserTest.SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
