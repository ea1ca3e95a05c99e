package dev.agenttasks.testkit.tck;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.EventLogs;
import dev.agenttasks.testkit.RecordingSubscriber;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import org.reactivestreams.tck.TestEnvironment;
import org.reactivestreams.tck.flow.FlowPublisherVerification;
import org.testng.SkipException;
import org.testng.annotations.AfterClass;
import org.testng.annotations.BeforeClass;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Flow;

/**
 * The Reactive Streams TCK over {@code events(id, afterSeq)} of a finished task: the whole log is in the
 * store, and the live tail is much shorter than the log, so long streams page from the store.
 */
public class FinishedTaskEventsTckTest extends FlowPublisherVerification<TaskEvent> {

    private TaskManager manager;
    private String taskId;
    private long lastSeq;

    public FinishedTaskEventsTckTest() {
        super(new TestEnvironment(TckSettings.DEFAULT_TIMEOUT_MILLIS, TckSettings.NO_SIGNALS_TIMEOUT_MILLIS),
                TckSettings.GC_TIMEOUT_MILLIS);
    }

    @BeforeClass
    public void startManager() {
        ScriptedAgentRunner runner = new ScriptedAgentRunner().agent("tck", "TCK", null);
        runner.script("tck", ScriptedAgentRunner.steps()
                .emitMany(TckSettings.MAX_ELEMENTS + 10, "n", i -> Map.of("i", i)).thenComplete());
        manager = TaskManager.builder().store(TaskStore.inMemory()).runner(runner)
                .liveTailSize(64).pageSize(32).build();
        taskId = manager.create(TaskRequest.of("tck", "finished task for the TCK")).id();
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        manager.events(taskId).subscribe(sub);
        List<TaskEvent> all = sub.awaitCompletion(Duration.ofSeconds(30));
        EventLogs.assertCompleteLog(all, TaskStatus.COMPLETED);
        lastSeq = all.get(all.size() - 1).seq();
    }

    @AfterClass(alwaysRun = true)
    public void closeManager() {
        if (manager != null) {
            manager.close();
        }
    }

    @Override
    public Flow.Publisher<TaskEvent> createFlowPublisher(long elements) {
        if (elements > lastSeq) {
            throw new SkipException("the finished task has " + lastSeq + " events, " + elements + " requested");
        }
        return manager.events(taskId, lastSeq - elements);
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
