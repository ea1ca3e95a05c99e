package dev.agenttasks.testkit;

import dev.agenttasks.Task;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskStore;
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

/**
 * The fixture and helpers of the {@link TaskEngineContract}: the scripted runner, the store, the managers a test
 * builds (closed after it) and gates (released after it), and waits for statuses and events. Store tests extend
 * {@link TaskEngineContract}, not this class; it is public so that the contract's parts, and suites of a store's
 * own, can share the helpers.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class TaskEngineContractSupport {

    /** The longest any single wait of the suite takes before the test fails. */
    protected static final Duration WAIT = Duration.ofSeconds(10);

    /** The scripted runner, fresh for each test. */
    protected ScriptedAgentRunner runner;
    /** The store of the current manager. */
    protected TaskStore store;
    /** The current manager, built on first use by {@link #manager()} or by {@link #start(UnaryOperator)}. */
    protected TaskManager manager;

    private final List<Gate> gates = new ArrayList<>();
    private final List<TaskManager> managers = new ArrayList<>();

    /** Subclasses have a no-argument constructor. */
    protected TaskEngineContractSupport() {
    }

    /**
     * @return a new, empty store; called once per test, before the first manager is built
     * @throws Exception if it cannot be opened
     */
    protected abstract TaskStore newStore() throws Exception;

    /**
     * @return a new store instance on the data of the last store returned (after the manager using it was
     *         closed, which closed it)
     * @throws Exception if it cannot be opened
     */
    protected abstract TaskStore reopenStore() throws Exception;

    /**
     * A hook to adjust every manager the suite builds (for example a store-specific commit delay).
     * Called after the suite's own settings.
     *
     * @param builder the builder
     * @return the builder
     */
    protected TaskManager.Builder configure(TaskManager.Builder builder) {
        return builder;
    }

    /** Creates the runner and the store. @throws Exception if the store cannot be opened */
    @BeforeEach
    void setUpEngineContract() throws Exception {
        runner = new ScriptedAgentRunner().agent("coder", "Coder", "model-1").agent("helper", "Helper", null);
        store = newStore();
    }

    /** Releases every gate and closes every manager the test built. */
    @AfterEach
    void tearDownEngineContract() {
        synchronized (gates) {
            gates.forEach(Gate::release);
        }
        for (TaskManager m : managers) {
            m.close();
        }
    }

    /** @return a new gate, released automatically after the test */
    protected Gate gate() {
        Gate g = new Gate();
        synchronized (gates) {
            gates.add(g);
        }
        return g;
    }

    /** @return the current manager, building one with the default settings if there is none */
    protected TaskManager manager() {
        if (manager == null) {
            start(b -> b);
        }
        return manager;
    }

    /**
     * Builds a manager on {@link #store} with the suite's settings (500 ms cancel grace and shutdown
     * timeout), then the test's, then {@link #configure(TaskManager.Builder)}.
     *
     * @param settings the test's settings
     * @return the manager, also in {@link #manager}
     */
    protected TaskManager start(UnaryOperator<TaskManager.Builder> settings) {
        TaskManager.Builder b = TaskManager.builder().store(store).runner(runner)
                .cancelGrace(Duration.ofMillis(500)).shutdownTimeout(Duration.ofMillis(500));
        manager = configure(settings.apply(b)).build();
        managers.add(manager);
        return manager;
    }

    /**
     * Waits until a task has a status.
     *
     * @param taskId the task
     * @param status the status
     * @return the task in that status
     */
    protected Task awaitStatus(String taskId, TaskStatus status) {
        Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(5))
                .until(() -> manager.get(taskId).map(Task::status).orElse(null) == status);
        return manager.get(taskId).orElseThrow();
    }

    /**
     * Subscribes with unbounded demand and waits for completion.
     *
     * @param taskId   the task
     * @param afterSeq the seq to start after
     * @return the events
     */
    protected List<TaskEvent> events(String taskId, long afterSeq) {
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        manager.events(taskId, afterSeq).subscribe(sub);
        List<TaskEvent> events = sub.awaitCompletion(WAIT);
        sub.assertNoViolations();
        return events;
    }

    /**
     * @param taskId the task
     * @return its whole log, once it has finished
     */
    protected List<TaskEvent> events(String taskId) {
        return events(taskId, 0);
    }

    /**
     * The events of the given types, in order: the runner's own events, without the status events and
     * whatever other events the engine records (for example the user messages of each turn).
     *
     * @param events events
     * @param types  the types to keep
     * @return the matching events
     */
    protected static List<TaskEvent> ofTypes(List<TaskEvent> events, String... types) {
        Set<String> wanted = Set.of(types);
        return events.stream().filter(e -> wanted.contains(e.type())).toList();
    }
}
