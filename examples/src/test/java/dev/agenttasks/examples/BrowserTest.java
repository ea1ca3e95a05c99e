package dev.agenttasks.examples;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
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
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Drives the Tasks page in a real headless Chromium (Debian's {@code chromium} and {@code chromium-driver};
 * nothing is downloaded). Skipped, with a reason, when they are not installed.
 */
class BrowserTest {

    private static final Path CHROMIUM = Path.of(System.getProperty("chromium.binary", "/usr/bin/chromium"));
    private static final Path CHROMEDRIVER = Path.of(System.getProperty("webdriver.chrome.driver", "/usr/bin/chromedriver"));
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TempDir
    Path profile;

    private HostFixture host;
    private ChromeDriverService service;
    private WebDriver driver;
    private WebDriverWait wait;

    @BeforeEach
    void start() {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "headless Chromium is not installed (apt-get install chromium chromium-driver)");
        host = HostFixture.start(b -> b.demoTokenDelay(Duration.ofMillis(15)));
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withLogFile(new File("target/chromedriver.log")).build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile.toAbsolutePath(), "--window-size=1400,1000", "--lang=en-US");
        driver = new ChromeDriver(service, options);
        wait = new WebDriverWait(driver, Duration.ofSeconds(30));
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

    @Test
    void createWatchAnswerCancelAndDeleteTasksInTheBrowser() throws Exception {
        driver.get(host.base.toString());
        wait.until(ExpectedConditions.textToBe(By.tagName("h1"), "Task Management"));
        wait.until(d -> new Select(d.findElement(By.id("agent-select"))).getOptions().size() == 2);
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "0"));
        assertThat(text(By.cssSelector("#tasks-body tr.empty"))).contains("No tasks yet");

        // 1. a task that asks a question: events stream into the task view, the badge counts it
        new Select(driver.findElement(By.id("agent-select"))).selectByValue("demo");
        driver.findElement(By.id("message-input")).sendKeys("Please ask me about the report");
        driver.findElement(By.id("create-btn")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("task-view")));
        wait.until(d -> d.findElements(By.cssSelector("#task-events li[data-type='text_delta']")).size() >= 3);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("answer-box")));
        assertThat(text(By.id("question-text"))).contains("Which format");
        assertThat(statusInView()).isEqualTo("waiting_for_input");
        assertThat(text(By.id("task-output"))).contains("Before I start I need one detail from you.");
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "1"));
        String askedId = driver.findElement(By.id("task-view")).getAttribute("data-task-id");
        assertThat(host.status(askedId)).isEqualTo("waiting_for_input");
        screenshot("tasks-page-waiting-for-input.png");

        // 2. answer it: the next turn streams live and the task completes; the badge drops
        driver.findElement(By.id("answer-input")).sendKeys("short summary");
        driver.findElement(By.id("answer-send")).click();
        wait.until(d -> "completed".equals(statusInView()));
        assertThat(text(By.id("task-output"))).contains("> short summary").contains("Thanks, you said: short summary")
                .contains("Done: the work is complete");
        assertThat(driver.findElements(By.cssSelector("#task-events li[data-type='result']"))).hasSize(1);
        assertNoGapInEventList();
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "0"));
        wait.until(d -> "completed".equals(rowStatus(askedId)));
        assertThat(host.status(askedId)).isEqualTo("completed");
        screenshot("tasks-page-completed.png");

        // 3. a long task: cancel it through the confirmation dialog
        driver.findElement(By.id("message-input")).sendKeys("Write a long report");
        driver.findElement(By.id("create-btn")).click();
        wait.until(d -> d.findElements(By.cssSelector("#tasks-body tr[data-task-id]")).size() == 2);
        String longId = driver.findElements(By.cssSelector("#tasks-body tr[data-task-id]")).get(0).getAttribute("data-task-id");
        assertThat(longId).isNotEqualTo(askedId);
        wait.until(d -> "running".equals(rowStatus(longId)));
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "1"));
        clickInRow(longId, ".cancel-btn");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        assertThat(text(By.id("confirm-message"))).isEqualTo("Are you sure you want to cancel this task?");
        driver.findElement(By.id("confirm-yes")).click();
        wait.until(d -> "cancelled".equals(rowStatus(longId)));
        assertThat(host.status(longId)).isEqualTo("cancelled");
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "0"));

        // 4. search and status filter
        driver.findElement(By.id("search-input")).sendKeys("long report");
        wait.until(d -> rowIds().equals(List.of(longId)));
        driver.findElement(By.id("search-input")).clear();
        driver.findElement(By.id("search-input")).sendKeys(" ");
        wait.until(d -> rowIds().size() == 2);
        new Select(driver.findElement(By.id("status-filter"))).selectByValue("completed");
        wait.until(d -> rowIds().equals(List.of(askedId)));
        new Select(driver.findElement(By.id("status-filter"))).selectByValue("");
        wait.until(d -> rowIds().size() == 2);

        // 5. delete the cancelled one; keeping it first in the dialog changes nothing
        clickInRow(longId, ".delete-btn");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        driver.findElement(By.id("confirm-no")).click();
        wait.until(ExpectedConditions.invisibilityOfElementLocated(By.id("confirm-dialog")));
        assertThat(rowIds()).contains(longId);
        clickInRow(longId, ".delete-btn");
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-dialog")));
        driver.findElement(By.id("confirm-yes")).click();
        wait.until(d -> rowIds().equals(List.of(askedId)));
        assertThat(host.get("/api/tasks/" + longId).statusCode()).isEqualTo(404);

        // 6. Chinese strings through the switch
        driver.findElement(By.id("lang-switch")).click();
        wait.until(ExpectedConditions.textToBe(By.tagName("h1"), "任务管理"));
        assertThat(text(By.cssSelector("#tasks-body tr[data-task-id] .status-badge"))).isEqualTo("已完成");
        assertThat(text(By.cssSelector("th"))).isEqualTo("任务名称");
        screenshot("tasks-page-zh.png");
        driver.findElement(By.id("lang-switch")).click();
        wait.until(ExpectedConditions.textToBe(By.tagName("h1"), "Task Management"));
        screenshot("tasks-page.png");
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
        List<WebElement> badge = driver.findElements(By.cssSelector("#view-status .status-badge"));
        return badge.isEmpty() ? null : badge.get(0).getAttribute("data-status");
    }

    private String rowStatus(String id) {
        return retry(d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("#tasks-body tr[data-task-id='" + id + "']"));
            return rows.isEmpty() ? "" : rows.get(0).getAttribute("data-status");
        });
    }

    private List<String> rowIds() {
        return retry(d -> d.findElements(By.cssSelector("#tasks-body tr[data-task-id]")).stream()
                .map(e -> e.getAttribute("data-task-id")).collect(java.util.stream.Collectors.toList()));
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

    private void assertNoGapInEventList() {
        Object seqs = ((JavascriptExecutor) driver).executeScript(
                "return Array.from(document.querySelectorAll('#task-events li')).map(li => Number(li.dataset.seq));");
        @SuppressWarnings("unchecked")
        List<Long> list = (List<Long>) seqs;
        assertThat(list).isNotEmpty();
        for (int i = 0; i < list.size(); i++) {
            assertThat(list.get(i)).isEqualTo(i + 1L);
        }
    }

    private void screenshot(String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
}
