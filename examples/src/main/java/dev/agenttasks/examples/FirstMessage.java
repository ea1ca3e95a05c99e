package dev.agenttasks.examples;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Finds the message a task was created with: its first {@code user_message} event, for a re-run. */
final class FirstMessage {

    /** The request's message is among the first events; a task without one in them has none. */
    private static final int LOOK_AT = 8;

    private FirstMessage() {
    }

    /**
     * @return the task's first message
     * @throws ApiException 409 if the task has none that can be read, 503 if interrupted
     */
    static TaskMessage of(TaskManager manager, String id) {
        CompletableFuture<TaskMessage> found = new CompletableFuture<>();
        manager.events(id, 0).subscribe(new Flow.Subscriber<TaskEvent>() {
            private Flow.Subscription sub;

            @Override
            public void onSubscribe(Flow.Subscription s) {
                sub = s;
                s.request(LOOK_AT);
            }

            @Override
            @SuppressWarnings("unchecked")
            public void onNext(TaskEvent e) {
                if (found.isDone() || !e.type().equals("user_message")) {
                    if (e.seq() >= LOOK_AT) {
                        sub.cancel();
                        found.complete(null);
                    }
                    return;
                }
                Object text = e.data().get("text");
                Object content = e.data().get("content");
                found.complete(text instanceof String ? TaskMessage.text((String) text)
                        : content instanceof List ? TaskMessage.content((List<Map<String, Object>>) content) : null);
                sub.cancel();
            }

            @Override
            public void onError(Throwable t) {
                found.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                found.complete(null);
            }
        });
        TaskMessage first;
        try {
            first = found.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "interrupted");
        } catch (ExecutionException | TimeoutException e) {
            throw new ApiException(409, "task " + id + " has no readable first message");
        }
        if (first == null) {
            throw new ApiException(409, "task " + id + " has no first message to run again");
        }
        return first;
    }
}
