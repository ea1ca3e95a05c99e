package dev.agenttasks.examples;

import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static dev.agenttasks.examples.TwoPostgresHosts.AGENT;
import static dev.agenttasks.examples.TwoPostgresHosts.postJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The README's two-host demo in a real headless Chromium: two example hosts on one PostgreSQL schema, a task
 * created through host A and running there, watched live on the Tasks page of host B. Skipped, with a reason,
 * when Chromium is not installed (as {@link BrowserTest}).
 */
class TwoHostsBrowserTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path profile;
    @TempDir
    Path data;

    private TwoPostgresHosts hosts;
    private ChromeDriverService service;
    private WebDriver driver;
    private WebDriverWait wait;

    @BeforeEach
    void start() throws Exception {
        assumeTrue(Files.isExecutable(BrowserTest.CHROMIUM) && Files.isExecutable(BrowserTest.CHROMEDRIVER),
                "headless Chromium is not installed (apt-get install chromium chromium-driver)");
        hosts = TwoPostgresHosts.start(PG.server(), data);
        service = new ChromeDriverService.Builder().usingDriverExecutable(BrowserTest.CHROMEDRIVER.toFile())
                .usingAnyFreePort().withLogFile(new File("target/chromedriver-two-hosts.log")).build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BrowserTest.CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile.toAbsolutePath(), "--window-size=1400,1000", "--lang=en-US");
        driver = new ChromeDriver(service, options);
        wait = new WebDriverWait(driver, Duration.ofSeconds(60));
        // the list is redrawn by every refresh: a row found may be gone a moment later
        wait.ignoring(StaleElementReferenceException.class);
    }

    @AfterEach
    void stop() {
        if (driver != null) {
            driver.quit();
        }
        if (service != null) {
            service.stop();
        }
        if (hosts != null) {
            hosts.close();
        }
    }

    @Test
    @Timeout(180)
    void thePageOfHostBShowsATaskRunningOnHostALive() throws Exception {
        ScriptedAgentRunner.Gate more = new ScriptedAgentRunner.Gate();
        ScriptedAgentRunner.Gate finish = new ScriptedAgentRunner.Gate();
        for (ScriptedAgentRunner r : List.of(hosts.runnerA, hosts.runnerB)) {
            r.script(AGENT, ScriptedAgentRunner.steps().emit("text_delta", Map.of("text", "Working on host A.\n"))
                    .await(more).emit("text_delta", Map.of("text", "Still working.\n"))
                    .await(finish).emit("text_delta", Map.of("text", "Done on host A.\n")).thenComplete());
        }
        String id = hosts.call(postJson(hosts.a, "/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"Run on host A\"}"),
                201).get("id").asText();
        more.awaitReached(WAIT);

        // host B's page lists the task as running and counts it
        driver.get(hosts.b.url().toString());
        wait.until(ExpectedConditions.textToBe(By.tagName("h1"), "Task Management"));
        wait.until(d -> "running".equals(rowStatus(id)));
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "1"));

        // opened there, its events stream from the store as host A commits them
        clickInRow(id, ".view-btn");
        wait.until(d -> text(By.id("task-output")).contains("Working on host A."));
        assertThat(statusInView()).isEqualTo("running");
        more.release();
        wait.until(d -> text(By.id("task-output")).contains("Still working."));
        finish.awaitReached(WAIT);
        assertThat(statusInView()).as("still running on host A while its new events show on host B").isEqualTo("running");
        assertThat(hosts.status(hosts.a, id)).isEqualTo("running");
        screenshot("tasks-page-two-hosts-running.png");

        // the end: the view, the row and the badge follow
        finish.release();
        wait.until(d -> "completed".equals(statusInView()));
        assertThat(text(By.id("task-output"))).contains("Done on host A.");
        wait.until(d -> "completed".equals(rowStatus(id)));
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "0"));
        assertNoGapInEventList();
        assertThat(hosts.runnerA.turns(id)).hasSize(1);
        assertThat(hosts.runnerB.turns(id)).as("turns run on host B").isEmpty();
    }

    private String text(By by) {
        return retry(d -> d.findElement(by).getText());
    }

    private String statusInView() {
        return retry(d -> {
            List<WebElement> badge = d.findElements(By.cssSelector("#view-status .status-badge"));
            return badge.isEmpty() ? null : badge.get(0).getAttribute("data-status");
        });
    }

    private String rowStatus(String id) {
        return retry(d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("#tasks-body tr[data-task-id='" + id + "']"));
            return rows.isEmpty() ? "" : rows.get(0).getAttribute("data-status");
        });
    }

    private void clickInRow(String id, String button) {
        wait.until(d -> {
            try {
                d.findElement(By.cssSelector("#tasks-body tr[data-task-id='" + id + "'] " + button)).click();
                return true;
            } catch (StaleElementReferenceException e) {
                return false;
            }
        });
    }

    private <T> T retry(Function<WebDriver, T> read) {
        for (int i = 0; ; i++) {
            try {
                return read.apply(driver);
            } catch (StaleElementReferenceException e) {
                if (i > 20) {
                    throw e;
                }
            }
        }
    }

    /** The view's event list holds seq 1, 2, 3 … with none missing or doubled, and ends with the terminal status. */
    private void assertNoGapInEventList() {
        Object seqs = ((JavascriptExecutor) driver).executeScript(
                "return Array.from(document.querySelectorAll('#task-events li')).map(li => Number(li.dataset.seq));");
        @SuppressWarnings("unchecked")
        List<Long> list = (List<Long>) seqs;
        assertThat(list).isNotEmpty();
        for (int i = 0; i < list.size(); i++) {
            assertThat(list.get(i)).isEqualTo(i + 1L);
        }
        List<WebElement> items = driver.findElements(By.cssSelector("#task-events li"));
        assertThat(items.get(items.size() - 1).getAttribute("data-type")).isEqualTo("status");
        assertThat(list).hasSize(hosts.storedEvents(driver.findElement(By.id("task-view")).getAttribute("data-task-id"))
                .size());
    }

    private void screenshot(String name) throws Exception {
        Files.createDirectories(BrowserTest.SCREENSHOTS);
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), BrowserTest.SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
