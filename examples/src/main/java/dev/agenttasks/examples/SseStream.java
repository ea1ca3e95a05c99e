package dev.agenttasks.examples;

import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.TaskDeletedException;
import dev.agenttasks.TaskEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * One Server-Sent Events response fed by a task's event publisher.
 *
 * <p>The subscriber side only queues what the publisher delivers; the writer loop runs on the HTTP
 * handler thread, so a slow client blocks only its own connection. Demand is bounded: at most
 * {@link #WINDOW} events are requested ahead of what has been written, so the queue never holds more.
 * A write failure (the client went away) cancels the subscription at once. The response ends after
 * the task's terminal status event.
 */
final class SseStream implements Flow.Subscriber<TaskEvent> {

    /** Events requested ahead of the writer. */
    static final int WINDOW = 32;
    /**
     * How often an idle stream writes an empty comment line to learn whether the client is still there:
     * a write to a closed connection fails at the latest on the second try, so a leaving client's slot
     * is freed within about two probes, whatever the heartbeat interval.
     */
    static final Duration PROBE = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(SseStream.class);
    private static final Pattern LINE_BREAK = Pattern.compile("\r\n|\r|\n");
    private static final Object COMPLETE = new Object();
    private static final Object STOP = new Object();

    private final String taskId;
    private final Duration heartbeat;
    private final boolean namedEvents;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private volatile Flow.Subscription subscription;
    private volatile boolean cancelled;

    SseStream(String taskId, Duration heartbeat, boolean namedEvents) {
        this.taskId = taskId;
        this.heartbeat = heartbeat;
        this.namedEvents = namedEvents;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        if (subscription != null) {
            s.cancel();
            return;
        }
        subscription = s;
        if (cancelled) {
            s.cancel();
        } else {
            s.request(WINDOW);
        }
    }

    @Override
    public void onNext(TaskEvent event) {
        queue.add(event);
    }

    @Override
    public void onError(Throwable error) {
        queue.add(error);
    }

    @Override
    public void onComplete() {
        queue.add(COMPLETE);
    }

    /** Asks the writer loop to end the response (host shutdown). */
    void stop() {
        queue.add(STOP);
    }

    /**
     * Writes the response until the terminal event, an error, a stop, or a write failure.
     *
     * @param ex        the exchange, nothing sent yet
     * @param publisher the task's events after the resume point
     * @param afterSeq  the resume point, for the log
     */
    void run(Exchange ex, Flow.Publisher<TaskEvent> publisher, long afterSeq) {
        int written = 0;
        long lastSeq = afterSeq;
        long wait = Math.min(heartbeat.toMillis(), PROBE.toMillis());
        try {
            ex.setHeader("Content-Type", "text/event-stream; charset=utf-8");
            ex.setHeader("Cache-Control", "no-store");
            ex.setHeader("X-Accel-Buffering", "no");
            OutputStream out = ex.start(200);
            write(out, "retry: 2000\n: stream of " + sanitize(taskId) + " after " + afterSeq + "\n\n");
            publisher.subscribe(this);
            int sinceRequest = 0;
            long lastWrite = System.nanoTime();
            while (true) {
                Object item = queue.poll(wait, TimeUnit.MILLISECONDS);
                if (item == null) {
                    if (System.nanoTime() - lastWrite >= heartbeat.toNanos() - TimeUnit.MILLISECONDS.toNanos(1)) {
                        write(out, ": heartbeat\n\n");
                    } else {
                        write(out, ":\n");
                        continue; // a probe is not activity: the heartbeat still comes on time
                    }
                } else if (item instanceof TaskEvent) {
                    TaskEvent event = (TaskEvent) item;
                    write(out, frame(event, namedEvents));
                    written++;
                    lastSeq = event.seq();
                    if (event.isTerminal()) {
                        break;
                    }
                    if (++sinceRequest >= WINDOW / 2) {
                        subscription.request(sinceRequest);
                        sinceRequest = 0;
                    }
                } else if (item instanceof Throwable) {
                    write(out, errorFrame((Throwable) item));
                    break;
                } else {
                    break; // COMPLETE or STOP
                }
                lastWrite = System.nanoTime();
            }
            log.debug("Stream of task {} ended after seq {} ({} events written)", taskId, lastSeq, written);
        } catch (IOException e) {
            log.debug("Stream of task {} closed by the client after seq {}: {}", taskId, lastSeq, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.debug("Stream of task {} interrupted after seq {}", taskId, lastSeq);
        } finally {
            cancel();
        }
    }

    private void cancel() {
        cancelled = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }

    private static void write(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /**
     * Formats one event: {@code id:}, {@code event:} (unless unnamed) and the JSON data split into
     * {@code data:} lines. Nothing taken from the event can contain a line break, so no value can end
     * the frame early or forge another field.
     */
    static String frame(TaskEvent event, boolean named) {
        StringBuilder sb = new StringBuilder(128);
        sb.append("id: ").append(event.seq()).append('\n');
        if (named) {
            sb.append("event: ").append(sanitize(event.type())).append('\n');
        }
        appendData(sb, Json.string(Json.event(event)));
        return sb.append('\n').toString();
    }

    private String errorFrame(Throwable error) {
        Map<String, Object> data = new LinkedHashMap<>();
        if (error instanceof TaskDeletedException) {
            data.put("error", "task deleted");
            data.put("code", "deleted");
        } else if (error instanceof NoSuchTaskException) {
            data.put("error", "no such task");
            data.put("code", "not_found");
        } else {
            log.warn("Stream of task {} failed", taskId, error);
            data.put("error", "stream failed");
            data.put("code", "internal");
        }
        data.put("task_id", taskId);
        StringBuilder sb = new StringBuilder("event: stream_error\n");
        appendData(sb, Json.string(data));
        return sb.append('\n').toString();
    }

    private static void appendData(StringBuilder sb, String json) {
        for (String line : LINE_BREAK.split(json, -1)) {
            sb.append("data: ").append(line).append('\n');
        }
    }

    /** Replaces CR, LF and other control characters, which would end an SSE field, with '_'. */
    static String sanitize(String value) {
        StringBuilder sb = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            sb.append(Character.isISOControl(c) || c == '\u2028' || c == '\u2029' ? '_' : c);
        }
        return sb.toString();
    }
}
