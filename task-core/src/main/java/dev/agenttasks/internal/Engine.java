package dev.agenttasks.internal;

import dev.agenttasks.*;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Flow;

/** The engine behind {@link TaskManager}. (skeleton: being written) */
public final class Engine implements TaskManager {

    /** Validated builder settings. */
    public record Config(TaskStore store, AgentRunner runner, int maxConcurrentTasks, Duration defaultTimeout,
                         Duration cancelGrace, Duration shutdownTimeout, Duration commitDelay,
                         ExecutorService executor, int liveTailSize, int pageSize, int maxBatchSize,
                         int writeQueueCapacity, int deliveryThreads, RecoveryPolicy recoveryPolicy,
                         List<TaskListener> listeners, TaskLimits limits, Clock clock, String hostId) {
    }

    private final Config config;

    /** @param config settings */
    public Engine(Config config) {
        this.config = config;
    }

    @Override public Task create(TaskRequest request) { throw new IllegalStateException("engine skeleton"); }
    @Override public Optional<Task> get(String taskId) { throw new IllegalStateException("engine skeleton"); }
    @Override public TaskPage list(TaskQuery query) { throw new IllegalStateException("engine skeleton"); }
    @Override public boolean cancel(String taskId) { throw new IllegalStateException("engine skeleton"); }
    @Override public boolean delete(String taskId) { throw new IllegalStateException("engine skeleton"); }
    @Override public SendResult sendMessage(String taskId, TaskMessage message) { throw new IllegalStateException("engine skeleton"); }
    @Override public int runningCount() { throw new IllegalStateException("engine skeleton"); }
    @Override public Map<TaskStatus, Long> countByStatus() { throw new IllegalStateException("engine skeleton"); }
    @Override public Flow.Publisher<TaskEvent> events(String taskId, long afterSeq) { throw new IllegalStateException("engine skeleton"); }
    @Override public ManagerStats stats() { throw new IllegalStateException("engine skeleton"); }
    @Override public void close() { config.store().close(); }
}
