package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.MessageStrategy;
import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.SendResult;
import dev.agenttasks.TaskException;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.spi.TaskRecord;
import dev.agenttasks.TaskBusyException;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.PendingMessage;
import dev.agenttasks.spi.StoreOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What a message does to a busy task ({@link MessageStrategy}). A task is busy unless it waits for
 * input: a turn runs ({@code RUNNING}), or it is {@code PENDING} (queued for a slot, or waiting for a
 * retry). {@code ENQUEUE} changes nothing; {@code REJECT} refuses before anything is written;
 * {@code INTERRUPT} stops the running turn (or drops the pending retry) in the same unit of writes that
 * stores the message: a {@value #INTERRUPTED} event, {@code RUNNING → PENDING}, the message. The stopped
 * turn's thread is interrupted and keeps its slot until it returns or the cancel grace ends, exactly as
 * for a cancel; the message's turn queues for a slot like any other.
 */
final class MessageStrategies {
    private static final Logger log = LoggerFactory.getLogger(MessageStrategies.class);
    /** The event recording a turn stopped by a message sent with {@link MessageStrategy#INTERRUPT}. */
    static final String INTERRUPTED = "turn_interrupted";

    /**
     * A turn stopped for a message.
     *
     * @param turn the stopped turn, or null if a pending retry was dropped
     * @param done completes when the unit with the message is committed
     */
    record Interrupt(TurnRun turn, CompletableFuture<Void> done) {
    }

    private final Engine engine;

    MessageStrategies(Engine engine) {
        this.engine = engine;
    }

    /**
     * Applies the strategy to a task that accepts messages (not finished). Caller holds the task's lock.
     * {@code extra} ops (an idempotency key) are written in the interrupt's unit.
     *
     * @return the interrupt, which has queued the message's unit and set the task queued; or null if
     *         the message is to be stored as usual
     * @throws TaskBusyException for {@code REJECT} on a busy task
     */
    Interrupt applyLocked(TaskState s, MessageStrategy strategy, PendingMessage pm, List<StoreOp> extra) {
        TaskStatus status = s.task().status();
        boolean busy = status != TaskStatus.WAITING_FOR_INPUT;
        if (!busy || strategy == MessageStrategy.ENQUEUE) {
            return null;
        }
        if (strategy == MessageStrategy.REJECT) {
            throw new TaskBusyException(s.id, status);
        }
        List<StoreOp> ops = new java.util.ArrayList<>(1 + extra.size());
        ops.add(new StoreOp.AddMessage(pm));
        ops.addAll(extra);
        return cutLocked(s, pm.messageId(), ops);
    }

    /**
     * Another host stored a message with {@code INTERRUPT} for a task this host runs
     * ({@link dev.agenttasks.spi.RemoteRequest.Kind#INTERRUPT}): stops the running turn (or drops the pending
     * retry) as a local {@code INTERRUPT} does, if the message waits in the inbox (it has not started a turn
     * yet). Caller holds the task's lock and has pulled the task's stored messages.
     *
     * @return the interrupt (the task is queued for a slot), or null if there is nothing to interrupt
     */
    Interrupt remoteLocked(TaskState s, String messageId) {
        TaskStatus status = s.task().status();
        if (status.isTerminal() || status == TaskStatus.WAITING_FOR_INPUT || s.deleted || s.dead || s.detached
                || s.inbox.stream().noneMatch(m -> m.messageId().equals(messageId))) {
            return null;
        }
        return cutLocked(s, messageId, List.of());
    }

    /** Stops the running turn or drops the pending retry, writing {@code extra} in the same unit. */
    private Interrupt cutLocked(TaskState s, String messageId, List<StoreOp> extra) {
        TurnRun turn = s.turn;
        Retries.Pending retry = s.retry;
        if (turn == null && retry == null) {
            return null; // queued for a slot: nothing runs that could be interrupted
        }
        int number = turn != null ? turn.number : retry.turn();
        LinkedHashMap<String, Object> data = new LinkedHashMap<>();
        data.put("turn", (long) number);
        data.put("reason", turn != null ? "interrupted by a new message" : "pending retry dropped for a new message");
        data.put("message_id", messageId);
        TaskEvent e = new TaskEvent(s.id, s.nextSeq++, INTERRUPTED, Collections.unmodifiableMap(data),
                engine.clock.instant());
        List<StoreOp> ops = new java.util.ArrayList<>(1 + extra.size());
        ops.add(new StoreOp.AppendEvent(e));
        ops.addAll(extra);
        s.queued = true;
        CompletableFuture<Void> done;
        if (turn != null) {
            s.turn = null;
            turn.cancelled = true;
            turn.closed = true;
            done = engine.transitionLocked(s, ops, TaskStatus.PENDING, null, null, null);
        } else {
            engine.retries.clearLocked(s);
            done = new CompletableFuture<>();
            engine.submitLocked(s, ops, done, null);
        }
        log.info("task {}: turn {} interrupted by message {}", s.id, number, messageId);
        return new Interrupt(turn, done);
    }

    /** After the task's lock: stops the interrupted turn's thread; its slot is released when it returns. */
    void stop(Interrupt cut) {
        if (cut.turn() != null) {
            TurnScheduler.interrupt(cut.turn());
            engine.turns.scheduleSlotRelease(cut.turn());
        }
    }
}
