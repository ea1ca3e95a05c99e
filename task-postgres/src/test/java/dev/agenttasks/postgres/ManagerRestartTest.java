package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A manager on the PostgreSQL store goes on after PostgreSQL restarts under it: a task waiting for input before
 * the restart takes its follow-up after it, a new task runs, and the log written before the restart is intact.
 */
class ManagerRestartTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theManagerGoesOnAfterARestart() {
        String schema = PG.server().uniqueSchemaName("mgr");
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("coder", "Coder", null);
        runner.script("coder", 1, ScriptedAgentRunner.steps().emit("text", Map.of("text", "before"))
                .thenAskForInput(Map.of("question", "go on?")));
        runner.script("coder", 2, ScriptedAgentRunner.steps().emit("text", Map.of("text", "after")).thenComplete());
        try (HikariDataSource pool = PgFixture.pool(PG.server(), 3);
             TaskManager manager = TaskManager.builder()
                     .store(PostgresTaskStore.builder(pool).schema(schema).build()).runner(runner).build()) {
            Task waiting = manager.create(TaskRequest.of("coder", "first"));
            Awaitility.await().atMost(WAIT).until(() -> manager.get(waiting.id()).map(Task::status).orElse(null)
                    == TaskStatus.WAITING_FOR_INPUT);
            List<TaskEvent> before = events(manager, waiting.id(), false);

            PG.server().restart();

            manager.sendMessage(waiting.id(), TaskMessage.text("yes"));
            Task fresh = manager.create(TaskRequest.of("coder", "second"));
            List<TaskEvent> all = events(manager, waiting.id(), true);
            assertThat(all.subList(0, before.size())).isEqualTo(before);
            assertThat(all).extracting(e -> e.data().get("text")).contains("before", "after");
            assertThat(manager.get(waiting.id()).orElseThrow().status()).isEqualTo(TaskStatus.COMPLETED);
            Awaitility.await().atMost(WAIT).until(() -> manager.get(fresh.id()).map(Task::status).orElse(null)
                    == TaskStatus.WAITING_FOR_INPUT);
        } finally {
            PG.server().dropSchema(schema);
        }
    }

    /** The task's log so far (read from the store through the manager), or its whole log once it completed. */
    private static List<TaskEvent> events(TaskManager manager, String taskId, boolean untilComplete) {
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        manager.events(taskId).subscribe(sub);
        if (untilComplete) {
            List<TaskEvent> events = sub.awaitCompletion(WAIT);
            sub.assertNoViolations();
            return events;
        }
        Awaitility.await().atMost(WAIT).until(() -> sub.items().stream()
                .anyMatch(e -> "text".equals(e.type())));
        return List.copyOf(sub.items());
    }
}
