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
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.agenttasks.examples.TwoPostgresHosts.AGENT;
import static dev.agenttasks.examples.TwoPostgresHosts.postJson;
import static org.assertj.core.api.Assertions.assertThat;

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
    private TasksPage page;
    private WebDriver driver;
    private WebDriverWait wait;

    @BeforeEach
    void start() throws Exception {
        TasksPage.assumeInstalled();
        hosts = TwoPostgresHosts.start(PG.server(), data);
        page = new TasksPage(profile, "chromedriver-two-hosts.log");
        driver = page.driver;
        wait = page.wait;
    }

    @AfterEach
    void stop() {
        if (page != null) {
            page.close();
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
        wait.until(d -> "running".equals(page.rowStatus(id)));
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "1"));

        // opened there, its events stream from the store as host A commits them
        page.clickInRow(id, ".view-btn");
        wait.until(d -> page.text(By.id("task-output")).contains("Working on host A."));
        assertThat(page.statusInView()).isEqualTo("running");
        more.release();
        wait.until(d -> page.text(By.id("task-output")).contains("Still working."));
        finish.awaitReached(WAIT);
        assertThat(page.statusInView()).as("still running on host A while its new events show on host B").isEqualTo("running");
        assertThat(hosts.status(hosts.a, id)).isEqualTo("running");
        page.screenshot("tasks-page-two-hosts-running.png");

        // the end: the view, the row and the badge follow
        finish.release();
        wait.until(d -> "completed".equals(page.statusInView()));
        assertThat(page.text(By.id("task-output"))).contains("Done on host A.");
        wait.until(d -> "completed".equals(page.rowStatus(id)));
        wait.until(ExpectedConditions.textToBe(By.id("running-badge"), "0"));
        assertNoGapInEventList();
        assertThat(hosts.runnerA.turns(id)).hasSize(1);
        assertThat(hosts.runnerB.turns(id)).as("turns run on host B").isEmpty();
    }

    /** The view's event list holds seq 1, 2, 3 … with none missing or doubled, and ends with the terminal status. */
    private void assertNoGapInEventList() {
        List<Long> list = page.assertNoGapInEventList();
        List<WebElement> items = driver.findElements(By.cssSelector("#task-events li"));
        assertThat(items.get(items.size() - 1).getAttribute("data-type")).isEqualTo("status");
        assertThat(list).hasSize(hosts.storedEvents(driver.findElement(By.id("task-view")).getAttribute("data-task-id"))
                .size());
    }

}
