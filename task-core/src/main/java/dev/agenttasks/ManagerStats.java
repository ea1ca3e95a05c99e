package dev.agenttasks;

/**
 * A point-in-time view of the engine's counters, for metrics and for tests of its memory bounds.
 *
 * @param activeTasks           tasks the engine holds in memory (not terminal)
 * @param runningTurns          turns executing now (each holds a concurrency slot)
 * @param queuedTurns           turns waiting for a concurrency slot
 * @param openSubscriptions     event subscriptions not yet completed or cancelled
 * @param tailEvents            committed events held in the in-memory live tails, all tasks together
 * @param peakTailEvents        the largest live tail any single task has had
 * @param peakSubscriptionBuffer the most events any single subscription has buffered at once
 * @param eventsAppended        events committed to the store since start
 * @param eventsDelivered       events delivered to subscribers since start
 * @param writeBatches          store transactions committed by the writer since start
 * @param eventsDropped         events emitted after a turn ended or was cancelled, dropped
 */
public record ManagerStats(int activeTasks, int runningTurns, int queuedTurns, int openSubscriptions,
                           long tailEvents, int peakTailEvents, int peakSubscriptionBuffer,
                           long eventsAppended, long eventsDelivered, long writeBatches, long eventsDropped) {
}
