package dev.agenttasks.sqlite;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.locks.LockSupport;

/**
 * The child JVM of {@link CrashTest}: runs {@code tasks} tasks that stream events over a
 * {@link SqliteTaskStore}, subscribes to every one and writes each event it is shown to a file, one
 * flushed line per event ({@code taskId TAB seq TAB type TAB dataJson}), until it is killed.
 *
 * Once every task is created it creates the file {@code <output>.created}.
 *
 * <p>Arguments: database file, output file, number of tasks, events per task.
 */
public final class CrashChild {

    private CrashChild() {
    }

    /** @param args database, output file, tasks, events per task */
    /** The stable host id of the child and of the manager that recovers after it: the restart recovers at once. */
    static final String HOST_ID = "crash-host";

    public static void main(String[] args) throws Exception {
        Path db = Path.of(args[0]);
        Path out = Path.of(args[1]);
        int taskCount = Integer.parseInt(args[2]);
        int eventsPerTask = Integer.parseInt(args[3]);
        ObjectMapper json = new ObjectMapper();
        CountDownLatch done = new CountDownLatch(taskCount);
        try (BufferedWriter w = Files.newBufferedWriter(out, StandardCharsets.UTF_8);
             TaskManager tasks = TaskManager.builder().store(SqliteTaskStore.open(db)).runner(new Streamer(eventsPerTask))
                     .hostId(HOST_ID).maxConcurrentTasks(taskCount).build()) {
            for (int i = 0; i < taskCount; i++) {
                String id = tasks.create(TaskRequest.builder("streamer").text("stream " + i).title("crash " + i)
                        .build()).id();
                tasks.events(id).subscribe(new Flow.Subscriber<>() {
                    @Override
                    public void onSubscribe(Flow.Subscription s) {
                        s.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(TaskEvent e) {
                        try {
                            String line = e.taskId() + '\t' + e.seq() + '\t' + e.type() + '\t'
                                    + json.writeValueAsString(e.data()) + '\n';
                            synchronized (w) {
                                w.write(line);
                                w.flush();
                            }
                        } catch (IOException ex) {
                            throw new UncheckedIOException(ex);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.countDown();
                    }

                    @Override
                    public void onComplete() {
                        done.countDown();
                    }
                });
            }
            Files.createFile(Path.of(out + ".created"));
            done.await();
        }
    }

    /** Emits {@code n} small text events, pausing briefly between them like a model streaming tokens. */
    static final class Streamer implements AgentRunner {
        private final int n;

        Streamer(int n) {
            this.n = n;
        }

        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return "streamer".equals(agentId) ? Optional.of(new AgentDescriptor("streamer", "Streamer", null))
                    : Optional.empty();
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext context) {
            for (int i = 0; i < n && !context.isCancelled(); i++) {
                context.emit("text_delta", Map.of("i", i, "text", "token " + i + " of " + turn.taskId() + " ✓"));
                LockSupport.parkNanos(1_000_000);
            }
            return TurnResult.completed(Map.of("events", n));
        }
    }
}
