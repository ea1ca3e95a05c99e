package dev.agenttasks.internal;

import java.util.ArrayDeque;

/** {@link TurnSlots} of one host: a counter and a FIFO queue under one lock. */
final class LocalTurnSlots<T> implements TurnSlots<T> {
    private final int limit;
    private final ArrayDeque<T> queue = new ArrayDeque<>();
    private int inUse;
    private boolean closed;

    LocalTurnSlots(int limit) {
        this.limit = limit;
    }

    @Override
    public synchronized boolean acquireOrQueue(T item) {
        if (!closed && inUse < limit && queue.isEmpty()) {
            inUse++;
            return true;
        }
        if (!closed) {
            queue.add(item);
        }
        return false;
    }

    @Override
    public synchronized T releaseOrPass() {
        if (inUse <= 0) {
            throw new IllegalStateException("a slot released that was not held: " + inUse + " in use");
        }
        T next = closed ? null : queue.poll();
        if (next == null) {
            inUse--;
        }
        return next;
    }

    @Override
    public synchronized void close() {
        closed = true;
        queue.clear();
    }

    @Override
    public synchronized int running() {
        return inUse;
    }

    @Override
    public synchronized int queued() {
        return queue.size();
    }
}
