package dev.agenttasks.examples;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.agenttasks.TaskLimits;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Drives the Tasks page in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver};
 * nothing is downloaded). Skipped, with a reason, when they are not installed.
 */
class BrowserTest {

    @TempDir
    Path profile;

    private HostFixture host;
    private TasksPage page;
    private WebDriver driver;
    private WebDriverWait wait;

    @BeforeEach
    void start() {
        TasksPage.assumeInstalled();
        HostConfig config = HostConfig.builder().port(0).heartbeatInterval(Duration.ofMillis(500))
                .demoTokenDelay(Duration.ofMillis(30)).build();
        host = HostFixture.start(config, new FloodingRunner(new CatalogAgentRunner(AgentCatalog.bundled(),
                config.demoTokenDelay())), TaskLimits.defaults());
        page = new TasksPage(profile, "chromedriver.log");
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

    @Test
    void createWatchAnswerCancelAndDeleteTasksInTheBrowser() throws Exception {
        driver.get(host.base.toString());
        wait.until(ExpectedConditions.textToBe(By.tagName("h1"), "Task Management"));
        wait.until(d -> new Select(d.findElement(By.id("agent-select"))).getOptions().size() == 2);
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "0"));
        assertThat(page.text(By.cssSelector("#tasks-body tr.empty"))).contains("No tasks yet");

        // 1. a task that asks a question: events stream into the task view, the badge counts it
        new Select(driver.findElement(By.id("agent-select"))).selectByValue("demo");
        driver.findElement(By.id("message-input")).sendKeys("Please ask me about the report");
        driver.findElement(By.id("create-btn")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("task-view")));
        wait.until(d -> d.findElements(By.cssSelector("#task-events li[data-type='text_delta']")).size() >= 3);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("answer-box")));
        assertThat(page.text(By.id("question-text"))).contains("Which format");
        assertThat(driver.findElements(By.cssSelector("#question-options button"))).extracting(WebElement::getText)
                .containsExactly("short summary", "detailed steps");
        assertThat(page.statusInView()).isEqualTo("waiting_for_input");
        assertThat(page.text(By.id("task-output"))).contains("Before I start I need one detail from you.");
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "1"));
        String askedId = driver.findElement(By.id("task-view")).getAttribute("data-task-id");
        assertThat(host.status(askedId)).isEqualTo("waiting_for_input");
        page.screenshot("tasks-page-waiting-for-input.png");

        // 2. answer it with the option button: the next turn streams live and the task completes; the badge drops
        driver.findElement(By.cssSelector("#question-options button")).click();
        wait.until(d -> "completed".equals(page.statusInView()));
        assertThat(page.text(By.id("task-output"))).contains("> short summary").contains("Thanks, you said: short summary")
                .contains("Done: the work is complete");
        assertThat(driver.findElements(By.cssSelector("#task-events li[data-type='result']"))).hasSize(1);
        page.assertNoGapInEventList();
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "0"));
        wait.until(d -> "completed".equals(page.rowStatus(askedId)));
        assertThat(host.status(askedId)).isEqualTo("completed");
        page.screenshot("tasks-page-completed.png");

        // 3. a long task: cancel it through the confirmation dialog
        driver.findElement(By.id("message-input")).sendKeys("Write a long report");
        driver.findElement(By.id("create-btn")).click();
        wait.until(d -> d.findElements(By.cssSelector("#tasks-body tr[data-task-id]")).size() == 2);
        String longId = page.rowIds().get(0);
        assertThat(longId).isNotEqualTo(askedId);
        wait.until(d -> "running".equals(page.rowStatus(longId)));
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "1"));
        page.clickInRow(longId, ".cancel-btn");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        assertThat(page.text(By.id("confirm-message"))).isEqualTo("Cancel the task \"Write a long report\"?");
        driver.findElement(By.id("confirm-yes")).click();
        wait.until(d -> "cancelled".equals(page.rowStatus(longId)));
        assertThat(host.status(longId)).isEqualTo("cancelled");
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "0"));

        // 4. search and status filter
        driver.findElement(By.id("search-input")).sendKeys("long report");
        wait.until(d -> page.rowIds().equals(List.of(longId)));
        driver.findElement(By.id("search-input")).clear();
        driver.findElement(By.id("search-input")).sendKeys(" ");
        wait.until(d -> page.rowIds().size() == 2);
        new Select(driver.findElement(By.id("status-filter"))).selectByValue("completed");
        wait.until(d -> page.rowIds().equals(List.of(askedId)));
        new Select(driver.findElement(By.id("status-filter"))).selectByValue("");
        wait.until(d -> page.rowIds().size() == 2);

        // 5. delete the cancelled one; keeping it first in the dialog changes nothing
        page.clickInRow(longId, ".delete-btn");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        driver.findElement(By.id("confirm-no")).click();
        wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("confirm-dialog")));
        assertThat(page.rowIds()).contains(longId);
        page.clickInRow(longId, ".delete-btn");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        driver.findElement(By.id("confirm-yes")).click();
        wait.until(d -> page.rowIds().equals(List.of(askedId)));
        assertThat(host.get("/api/tasks/" + longId).statusCode()).isEqualTo(404);

        // 6. Chinese strings through the switch
        driver.findElement(By.id("lang-switch")).click();
        wait.until(ExpectedConditions.textToBe(By.tagName("h1"), "任务管理"));
        assertThat(page.text(By.cssSelector("#tasks-body tr[data-task-id] .status-badge"))).isEqualTo("已完成");
        assertThat(page.text(By.cssSelector("th:nth-child(2)"))).isEqualTo("任务名称");
        // a server error, translated: a linked task that does not exist
        driver.get(host.base.resolve("/?task=task_missing").toString());
        wait.until(d -> d.findElement(By.id("view-error")).getText().contains("未找到"));
        driver.findElement(By.id("view-close")).click();
        page.screenshot("tasks-page-zh.png");
        driver.findElement(By.id("lang-switch")).click();
        wait.until(ExpectedConditions.textToBe(By.tagName("h1"), "Task Management"));
        page.screenshot("tasks-page.png");
    }

    @Test
    void aTaskWithAHundredThousandEventsOpensAndThePageAnswersClicksWhileItReplays() throws Exception {
        String id = host.createDemo("flood " + FLOOD);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(300)).until(() -> host.status(id).equals("completed"));

        driver.get(host.base.toString());
        wait.until(d -> page.rowIds().contains(id));
        // a probe in the page: as soon as the replay has begun, it queues a click on the language switch as a
        // task of the event loop (as user input is) and records how long the page took to run it and how far
        // the replay was then. A page that replays in one long task would run it only after the replay.
        ((JavascriptExecutor) driver).executeScript(
                "window.__probe = null;"
                        + "const count = document.getElementById('event-count');"
                        + "const obs = new MutationObserver(() => {"
                        + "  const seq = Number(count.dataset.lastSeq || 0);"
                        + "  if (seq === 0 || window.__probe) return;"
                        + "  obs.disconnect();"
                        + "  const queued = performance.now();"
                        + "  window.__probe = {queuedAtSeq: seq};"
                        + "  setTimeout(() => {"
                        + "    document.getElementById('lang-switch').click();"
                        + "    window.__probe.latency = performance.now() - queued;"
                        + "    window.__probe.ranAtSeq = Number(count.dataset.lastSeq);"
                        + "  }, 0);"
                        + "});"
                        + "obs.observe(count, {attributes: true});");
        page.clickInRow(id, ".view-btn");
        new WebDriverWait(driver, Duration.ofSeconds(60)).until(ExpectedConditions.textToBe(By.tagName("h1"), "任务管理"));
        @SuppressWarnings("unchecked")
        Map<String, Object> probe = (Map<String, Object>) ((JavascriptExecutor) driver).executeScript("return window.__probe;");
        System.out.println("Replay probe: " + probe);
        assertThat(((Number) probe.get("ranAtSeq")).longValue()).as("the click ran while the replay was going")
                .isLessThan(FLOOD);
        // generous: only a page that replays in one long task (40 s and more before) fails it on a loaded machine
        assertThat(((Number) probe.get("latency")).doubleValue()).as("ms before the page ran a queued click")
                .isLessThan(15_000);
        assertThat(driver.getCurrentUrl()).endsWith("?task=" + id);
        driver.findElement(By.id("lang-switch")).click();
        wait.until(ExpectedConditions.textToBe(By.tagName("h1"), "Task Management"));

        new WebDriverWait(driver, Duration.ofSeconds(300)).until(d -> "completed".equals(page.statusInView()));
        assertThat(seen()).isGreaterThanOrEqualTo(FLOOD);
        // the latest output is shown; the event list stays small, with earlier events on request
        String output = page.text(By.id("task-output"));
        assertThat(output).endsWith("t" + (FLOOD - 1) + " ");
        assertThat(driver.findElements(By.cssSelector("#task-events li")).size()).isLessThanOrEqualTo(200);
        String last = driver.findElements(By.cssSelector("#task-events li")).stream().reduce((a, b) -> b).orElseThrow()
                .getAttribute("data-type");
        assertThat(last).isEqualTo("status");
        driver.findElement(By.id("events-earlier")).click();
        wait.until(d -> d.findElements(By.cssSelector("#task-events li")).size() == 1200);
        page.screenshot("tasks-page-100k-events.png");
    }

    @Test
    void layoutFitsDesktopAndPhoneAndTheDashboardFeaturesWork() throws Exception {
        String longTitle = "A very long task title that keeps going ".repeat(4).trim();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 14; i++) {
            HttpResponseHolder r = new HttpResponseHolder(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"quick "
                    + i + "\",\"title\":" + Json.string(longTitle + " " + i) + "}"));
            ids.add(r.id());
        }
        String failed = host.createDemo("please fail here");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> host.status(failed).equals("failed")
                && ids.stream().allMatch(x -> host.status(x).equals("completed")));

        driver.manage().window().setSize(new Dimension(1280, 900));
        driver.get(host.base.toString());
        wait.until(d -> page.rowIds().size() == 15);
        wait.until(d -> "1".equals(d.findElement(By.cssSelector("[data-count-of='failed']")).getText()));
        assertThat(page.text(By.cssSelector("[data-count-of='total']"))).isEqualTo("15");
        assertThat(page.text(By.id("list-total"))).isEqualTo("15 of 15 shown");
        assertNoHorizontalOverflow();
        WebElement lang = driver.findElement(By.id("lang-switch"));
        assertThat(inViewport(lang)).as("language switch reachable without scrolling").isTrue();
        // failure reason in the list, exact time on hover
        assertThat(page.text(By.cssSelector("#tasks-body tr[data-task-id='" + failed + "'] .fail-reason")))
                .contains("failed on purpose");
        assertThat(page.rowAttribute(failed, "td.c-started", "title")).matches(".*\\(\\d{4}-\\d\\d-\\d\\dT.*Z\\)");
        // the duration column shows the host's running time (not time spent waiting)
        String durationMs = page.rowAttribute(ids.get(0), "td.c-duration", "data-running-ms");
        assertThat(durationMs).as("running_ms of a completed task").matches("\\d+");
        assertThat(host.manager.get(ids.get(0)).orElseThrow().completedAt()).isNotNull();
        page.screenshot("tasks-page-desktop-1280.png");

        // "View" on a row below the fold opens the panel in view
        String lowest = page.rowIds().get(page.rowIds().size() - 1);
        wait.until(d -> ((JavascriptExecutor) d).executeScript("arguments[0].scrollIntoView({block: 'end'}); return true;",
                d.findElement(By.cssSelector("#tasks-body tr[data-task-id='" + lowest + "']"))));
        page.clickInRow(lowest, ".view-btn");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("task-view")));
        wait.until(d -> inViewport(d.findElement(By.id("view-title"))));
        assertThat(driver.getCurrentUrl()).endsWith("?task=" + lowest);
        driver.findElement(By.id("view-close")).click();

        // counters filter
        driver.findElement(By.cssSelector(".counter[data-status='failed']")).click();
        wait.until(d -> page.rowIds().equals(List.of(failed)));
        driver.findElement(By.cssSelector(".counter[data-status='failed']")).click();
        wait.until(d -> page.rowIds().size() == 15);

        // re-run the failed task: a new task with the same request
        page.clickInRow(failed, ".rerun-btn");
        wait.until(d -> page.rowIds().size() == 16);
        // the page opens the new task: wait for the view to show a task that is neither the failed one nor an old one
        String rerun = wait.until(d -> {
            String shown = d.findElement(By.id("task-view")).getAttribute("data-task-id");
            return shown != null && !shown.equals(failed) && !shown.equals(lowest) && !ids.contains(shown)
                    && page.rowIds().contains(shown) ? shown : null;
        });
        assertThat(host.manager.get(rerun).orElseThrow().metadata()).containsEntry("rerun_of", failed);
        driver.findElement(By.id("view-close")).click();

        // select two tasks and delete them at once; the dialog names them
        page.clickInRow(ids.get(0), ".row-check");
        page.clickInRow(ids.get(1), ".row-check");
        assertThat(page.text(By.id("bulk-count"))).isEqualTo("2 selected");
        driver.findElement(By.id("bulk-delete")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        assertThat(page.text(By.id("confirm-message"))).startsWith("Delete 2 task(s):").contains(longTitle);
        driver.findElement(By.id("confirm-yes")).click();
        wait.until(d -> page.rowIds().size() == 14);
        assertThat(page.rowIds()).doesNotContain(ids.get(0), ids.get(1));
        assertThat(host.get("/api/tasks/" + ids.get(0)).statusCode()).isEqualTo(404);

        // a phone: the sidebar collapses into a top bar, nothing overflows sideways
        driver.manage().window().setSize(new Dimension(390, 844));
        wait.until(d -> ((Number) ((JavascriptExecutor) d).executeScript("return window.innerWidth;")).intValue() <= 400);
        WebElement sidebar = driver.findElement(By.cssSelector(".sidebar"));
        assertThat(sidebar.getSize().getHeight()).isLessThan(80);
        assertNoHorizontalOverflow();
        assertThat(inViewport(driver.findElement(By.id("lang-switch")))).isTrue();
        page.screenshot("tasks-page-phone-390.png");
        page.clickInRow(ids.get(2), ".status-badge");
        wait.until(d -> inViewport(d.findElement(By.id("view-title"))));
        assertNoHorizontalOverflow();
        page.screenshot("tasks-page-phone-390-task.png");
    }

    private void assertNoHorizontalOverflow() {
        Object widths = ((JavascriptExecutor) driver).executeScript(
                "const c = document.querySelector('.table-card');"
                        + "return [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
                        + " c.scrollWidth, c.clientWidth];");
        @SuppressWarnings("unchecked")
        List<Long> w = (List<Long>) widths;
        assertThat(w.get(0)).as("page width").isLessThanOrEqualTo(w.get(1));
        assertThat(w.get(2)).as("table width").isLessThanOrEqualTo(w.get(3));
    }

    private boolean inViewport(WebElement e) {
        return (Boolean) ((JavascriptExecutor) driver).executeScript(
                "const r = arguments[0].getBoundingClientRect();"
                        + "return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth;", e);
    }

    private long seen() {
        String n = driver.findElement(By.id("event-count")).getAttribute("data-last-seq");
        return n == null || n.isEmpty() ? 0 : Long.parseLong(n);
    }

    /** The id of a created task. */
    private record HttpResponseHolder(java.net.http.HttpResponse<String> r) {
        String id() {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            return HostFixture.json(r.body()).get("id").asText();
        }
    }

    private static final long FLOOD = 100_000;

    /** The bundled agents, plus: a first message "flood N" makes N {@code text_delta} events, then completes. */
    static final class FloodingRunner implements AgentRunner {
        private final AgentRunner delegate;

        FloodingRunner(AgentRunner delegate) {
            this.delegate = delegate;
        }

        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return delegate.describe(agentId);
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
            String text = turn.message().firstText();
            if (text == null || !text.startsWith("flood ")) {
                return delegate.runTurn(turn, context);
            }
            long n = Long.parseLong(text.substring(6).trim());
            for (long i = 0; i < n; i++) {
                context.emit("text_delta", Map.of("text", "t" + i + " "));
            }
            return TurnResult.completed();
        }
    }

}
