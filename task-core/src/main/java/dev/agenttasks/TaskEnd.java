package dev.agenttasks;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;

/**
 * The subscriber behind {@link TaskManager#whenFinished(String)}: follows a task's events from a seq
 * on, discards them, and on {@code onComplete} (sent only after the terminal status event) completes the
 * future with the task's final snapshot.
 */
final class TaskEnd implements Flow.Subscriber<TaskEvent> {
    private final TaskManager manager;
    private final String taskId;
    private final CompletableFuture<Task> future = new CompletableFuture<>();
    private Flow.Subscription subscription; // guarded by this

    private TaskEnd(TaskManager manager, String taskId) {
        this.manager = manager;
        this.taskId = taskId;
    }

    static CompletableFuture<Task> follow(TaskManager manager, Task current) {
        if (current.status().isTerminal()) {
            return CompletableFuture.completedFuture(current);
        }
        TaskEnd end = new TaskEnd(manager, current.id());
        end.future.whenComplete((t, e) -> {
            if (end.future.isCancelled()) {
                end.cancelSubscription();
            }
        });
        manager.events(current.id(), current.lastSeq()).subscribe(end);
        return end.future;
    }

    private synchronized void cancelSubscription() {
        if (subscription != null) {
            subscription.cancel();
        }
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        synchronized (this) {
            subscription = s;
        }
        if (future.isDone()) {
            s.cancel();
        } else {
            s.request(Long.MAX_VALUE);
        }
    }

    @Override
    public void onNext(TaskEvent item) {
        // only the end matters; the events themselves are the subscriber's business, not ours
    }

    @Override
    public void onError(Throwable error) {
        future.completeExceptionally(error);
    }

    @Override
    public void onComplete() {
        try {
            Task t = manager.get(taskId).orElse(null);
            if (t == null) {
                future.completeExceptionally(new TaskDeletedException(taskId));
            } else {
                future.complete(t);
            }
        } catch (RuntimeException e) {
            future.completeExceptionally(e);
        }
    }
}
