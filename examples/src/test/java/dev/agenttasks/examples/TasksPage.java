package dev.agenttasks.examples;

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
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The browser tests' headless Chromium on the example host's Tasks page: its set-up (the Debian
 * {@code chromium} and {@code chromium-driver} packages, nothing downloaded) and the reads of the page they
 * all make. The page redraws the list on every refresh and the view as events arrive, so an element found
 * may be gone a moment later: every read here retries on a stale element.
 */
final class TasksPage implements AutoCloseable {
    static final Path CHROMIUM = Path.of(System.getProperty("chromium.binary", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("webdriver.chrome.driver", "/usr/bin/chromedriver"));
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    final WebDriver driver;
    final WebDriverWait wait;
    private final ChromeDriverService service;

    /** Skips the calling test, with the reason, when Chromium is not installed. */
    static void assumeInstalled() {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "headless Chromium is not installed (apt-get install chromium chromium-driver)");
    }

    /**
     * Starts Chromium with its profile in {@code profile}, logging the driver to {@code target/<logName>}.
     */
    TasksPage(Path profile, String logName) {
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withLogFile(new File("target/" + logName)).build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile.toAbsolutePath(), "--window-size=1400,1000", "--lang=en-US");
        WebDriver started;
        try {
            started = new ChromeDriver(service, options);
        } catch (RuntimeException e) {
            service.stop();
            throw e;
        }
        driver = started;
        wait = new WebDriverWait(driver, Duration.ofSeconds(60));
        wait.ignoring(StaleElementReferenceException.class);
    }

    /** The text of an element, once it is there. */
    String text(By by) {
        return wait.until(d -> {
            try {
                return d.findElement(by).getText();
            } catch (StaleElementReferenceException e) {
                return null;
            }
        });
    }

    /** The status of the task open in the view, or null while none is shown. */
    String statusInView() {
        return retry(d -> {
            List<WebElement> badge = d.findElements(By.cssSelector("#view-status .status-badge"));
            return badge.isEmpty() ? null : badge.get(0).getAttribute("data-status");
        });
    }

    /** The status a task's row in the list shows, or "" while the list has no row for it. */
    String rowStatus(String id) {
        return retry(d -> {
            List<WebElement> rows = d.findElements(By.cssSelector("#tasks-body tr[data-task-id='" + id + "']"));
            return rows.isEmpty() ? "" : rows.get(0).getAttribute("data-status");
        });
    }

    /** The ids of the list's rows, top to bottom. */
    List<String> rowIds() {
        return retry(d -> d.findElements(By.cssSelector("#tasks-body tr[data-task-id]")).stream()
                .map(e -> e.getAttribute("data-task-id")).collect(Collectors.toList()));
    }

    /** An attribute of an element in a task's row, read again if the list was redrawn meanwhile. */
    String rowAttribute(String id, String element, String attribute) {
        return wait.until(d -> d.findElement(By.cssSelector("#tasks-body tr[data-task-id='" + id + "'] " + element))
                .getAttribute(attribute));
    }

    /** Clicks an element of a task's row, again if the list was redrawn under the click. */
    void clickInRow(String id, String button) {
        wait.until(d -> {
            try {
                d.findElement(By.cssSelector("#tasks-body tr[data-task-id='" + id + "'] " + button)).click();
                return true;
            } catch (StaleElementReferenceException e) {
                return false;
            }
        });
    }

    /** Runs a read of the page, again (a bounded number of times) while it meets a stale element. */
    <T> T retry(Function<WebDriver, T> read) {
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

    /** Asserts that the view's event list holds seq 1, 2, 3 … with none missing or doubled. @return the seqs */
    List<Long> assertNoGapInEventList() {
        Object seqs = ((JavascriptExecutor) driver).executeScript(
                "return Array.from(document.querySelectorAll('#task-events li')).map(li => Number(li.dataset.seq));");
        @SuppressWarnings("unchecked")
        List<Long> list = (List<Long>) seqs;
        assertThat(list).isNotEmpty();
        for (int i = 0; i < list.size(); i++) {
            assertThat(list.get(i)).isEqualTo(i + 1L);
        }
        return list;
    }

    /** Saves a screenshot of the page under {@code target/screenshots}. */
    void screenshot(String name) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
        }
    }
}
