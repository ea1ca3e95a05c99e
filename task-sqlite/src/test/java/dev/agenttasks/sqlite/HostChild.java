package dev.agenttasks.sqlite;

import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * A host process for {@link TwoProcessesTest}: a manager on the SQLite file given as the first argument,
 * with the host id given second, that creates as many tasks as the third argument says; each turn emits
 * one event and then blocks until interrupted. It prints each task id, then {@code READY}, and serves
 * until it is killed.
 */
public final class HostChild {
    private HostChild() {
    }

    /** Turns that block (agent {@code blocker}) or complete at once (agent {@code quick}). */
    static final class Runner implements AgentRunner {
        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return Optional.of(new AgentDescriptor(agentId, agentId, "model"));
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
            context.emit("text", Map.of("started", turn.taskId()));
            if (turn.agentId().equals("blocker")) {
                new CountDownLatch(1).await(); // until interrupted
            }
            return TurnResult.completed(Map.of());
        }
    }

    static TaskManager.Builder host(Path db, String hostId) {
        return TaskManager.builder().store(SqliteTaskStore.open(db)).runner(new Runner()).hostId(hostId)
                .maxConcurrentTasks(4).heartbeatInterval(Duration.ofMillis(200)).hostDeadAfter(Duration.ofSeconds(2))
                .pollInterval(Duration.ofMillis(100)).eventPollInterval(Duration.ofMillis(50));
    }

    /**
     * @param args the database file, the host id, the number of blocking tasks to create
     * @throws Exception if the manager fails
     */
    public static void main(String[] args) throws Exception {
        TaskManager tasks = host(Path.of(args[0]), args[1]).build();
        int n = Integer.parseInt(args[2]);
        for (int i = 0; i < n; i++) {
            System.out.println(tasks.create(TaskRequest.builder("blocker").text("block " + i).build()).id());
        }
        System.out.println("READY");
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
