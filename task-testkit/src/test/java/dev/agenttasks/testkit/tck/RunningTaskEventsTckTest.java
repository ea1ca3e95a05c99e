package dev.agenttasks.testkit.tck;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.ScriptedAgentRunner.Gate;
import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowPublisherVerification;
import org.testng.annotations.AfterClass;
import org.testng.annotations.BeforeClass;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Reactive Streams TCK over {@code events(id, afterSeq)} of running tasks. Each publisher belongs to a
 * new task whose turn has emitted part of its events and waits; it goes on (emits the rest and completes)
 * as soon as a subscription to the manager opens, so the subscriber starts on replayed events and ends on
 * live ones. {@code afterSeq} is chosen so the stream holds exactly the requested number of events,
 * status events included.
 */
public class RunningTaskEventsTckTest extends FlowPublisherVerification<TaskEvent> {

    private final AtomicInteger counter = new AtomicInteger();
    private final ConcurrentLinkedQueue<Gate> gates = new ConcurrentLinkedQueue<>();
    private ScheduledExecutorService releaser;
    private ScriptedAgentRunner runner;
    private TaskManager manager;
    /** Events the engine logs before the runner's first one (status events, user message, ...). */
    private long prefix;

    public RunningTaskEventsTckTest() {
        super(new TestEnvironment(TckSettings.DEFAULT_TIMEOUT_MILLIS, TckSettings.NO_SIGNALS_TIMEOUT_MILLIS),
                TckSettings.GC_TIMEOUT_MILLIS);
    }

    @BeforeClass
    public void startManager() {
        runner = new ScriptedAgentRunner().agent("tck", "TCK", null);
        runner.scriptWhen(t -> t.message() != null && t.message().text().equals("probe"),
                ScriptedAgentRunner.steps().emit("probe", Map.of()).thenComplete());
        manager = TaskManager.builder().store(TaskStore.inMemory()).runner(runner)
                .liveTailSize(64).pageSize(32).maxConcurrentTasks(64).build();
        releaser = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tck-gate-releaser");
            t.setDaemon(true);
            return t;
        });
        String probe = manager.create(TaskRequest.of("tck", "probe")).id();
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        manager.events(probe).subscribe(sub);
        List<TaskEvent> log = sub.awaitCompletion(Duration.ofSeconds(10));
        EventLogs.assertCompleteLog(log, TaskStatus.COMPLETED);
        prefix = log.stream().filter(e -> e.type().equals("probe")).findFirst().orElseThrow().seq() - 1;
    }

    @AfterClass(alwaysRun = true)
    public void closeManager() {
        gates.forEach(Gate::release);
        if (releaser != null) {
            releaser.shutdownNow();
        }
        if (manager != null) {
            manager.close();
        }
    }

    @Override
    public Flow.Publisher<TaskEvent> createFlowPublisher(long elements) {
        int before = (int) (elements / 2 + 1);
        int after = (int) (elements / 2 + 1);
        long total = prefix + before + after + 1; // + the terminal status event
        String text = "tck-" + counter.incrementAndGet();
        Gate gate = new Gate();
        gates.add(gate);
        runner.scriptWhen(t -> t.message() != null && t.message().text().equals(text), ScriptedAgentRunner.steps()
                .emitMany(before, "before", i -> Map.of("i", i)).await(gate)
                .emitMany(after, "after", i -> Map.of("i", i)).thenComplete());
        String id = manager.create(TaskRequest.of("tck", text)).id();
        gate.awaitReached(Duration.ofSeconds(10));
        int baseline = manager.stats().openSubscriptions();
        releaseWhenSubscribed(gate, baseline, System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
        return manager.events(id, total - elements);
    }

    /** Polls the manager's subscription count every millisecond; gives up (and releases) after the deadline. */
    private void releaseWhenSubscribed(Gate gate, int baseline, long deadline) {
        releaser.execute(new Runnable() {
            @Override
            public void run() {
                if (manager.stats().openSubscriptions() > baseline || System.nanoTime() > deadline) {
                    gate.release();
                } else {
                    releaser.schedule(this, 1, TimeUnit.MILLISECONDS);
                }
            }
        });
    }

    @Override
    public Flow.Publisher<TaskEvent> createFailedFlowPublisher() {
        return manager.events("task_no_such_task_for_the_tck");
    }

    @Override
    public long maxElementsFromPublisher() {
        return TckSettings.MAX_ELEMENTS;
    }
}
