package dev.agenttasks.internal;

/**
 * Who may run a turn now: the concurrency slots of this host and the queue of tasks waiting for one,
 * in the order they asked. This is the seam where multi-host ownership plugs in (a claim on a task in
 * the store before its turn starts); {@link LocalTurnSlots} is the single-host implementation.
 *
 * @param <T> what waits for a slot (the engine's task state)
 */
interface TurnSlots<T> {

    /**
     * Takes a free slot for the item, or queues it behind the items already waiting.
     *
     * @return true if the caller now holds a slot for the item; false if it was queued
     */
    boolean acquireOrQueue(T item);

    /**
     * Gives up one slot that the caller holds. If an item is waiting, the slot passes to it and it is
     * returned: the caller must start it or call this method again.
     *
     * @return the item the slot passed to, or null if the slot is free
     */
    T releaseOrPass();

    /** Stops handing slots to queued items and forgets the queue (they stay PENDING in the store). */
    void close();

    /** @return slots held now */
    int running();

    /** @return items waiting for a slot */
    int queued();
}
