package dev.agenttasks.testkit.engine;

import dev.agenttasks.testkit.StoreHandle;
import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** Shared set-up of the engine tests: a scripted runner, an in-memory store, gates released after each test. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
abstract class EngineTestBase {

    static final Duration WAIT = Duration.ofSeconds(15);

    ScriptedAgentRunner runner;
    /** The raw in-memory store under the manager (not closed by the manager, so tests can inspect it). */
    TaskStore data;
    TaskManager manager;
    /** The handle the current manager writes through (counts its writes). */
    StoreHandle storeHandle;
    private final List<Gate> gates = new ArrayList<>();
    private final List<TaskManager> managers = new ArrayList<>();

    @BeforeEach
    void setUpBase() {
        runner = new ScriptedAgentRunner().agent("coder", "Coder", "model-1").agent("helper", "Helper", null);
        data = TaskStore.inMemory();
    }

    @AfterEach
    void tearDownBase() {
        synchronized (gates) {
            gates.forEach(Gate::release);
        }
        managers.forEach(TaskManager::close);
        data.close();
    }

    Gate gate() {
        Gate g = new Gate();
        synchronized (gates) {
            gates.add(g);
        }
        return g;
    }

    /** @return a store handle on {@link #data} that the manager may close */
    TaskStore handle() {
        return new StoreHandle(data);
    }

    TaskManager start(UnaryOperator<TaskManager.Builder> settings) {
        storeHandle = new StoreHandle(data);
        TaskManager.Builder b = TaskManager.builder().store(storeHandle).runner(runner)
                .cancelGrace(Duration.ofMillis(500)).shutdownTimeout(Duration.ofMillis(500));
        manager = settings.apply(b).build();
        managers.add(manager);
        return manager;
    }

    TaskManager start() {
        return start(b -> b);
    }

    Task awaitStatus(String taskId, TaskStatus status) {
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(5))
                .until(() -> manager.get(taskId).map(Task::status).orElse(null) == status);
        return manager.get(taskId).orElseThrow();
    }

    Task awaitTerminal(String taskId) {
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(5))
                .until(() -> manager.get(taskId).map(t -> t.status().isTerminal()).orElse(false));
        return manager.get(taskId).orElseThrow();
    }

    List<TaskEvent> events(String taskId) {
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        manager.events(taskId).subscribe(sub);
        List<TaskEvent> events = sub.awaitCompletion(WAIT);
        sub.assertNoViolations();
        return events;
    }

    /** @return the events in the store, read directly */
    List<TaskEvent> storedEvents(String taskId) {
        return data.events(taskId, 0, Integer.MAX_VALUE);
    }

    static List<TaskEvent> ofTypes(List<TaskEvent> events, String... types) {
        Set<String> wanted = Set.of(types);
        return events.stream().filter(e -> wanted.contains(e.type())).toList();
    }
}
