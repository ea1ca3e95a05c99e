package dev.agenttasks.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The open subscriptions of each task. A task's list is replaced, never changed in place, under one
 * lock, so a subscriber added while the last one leaves is never put into a list the registry has
 * dropped (issue 7, defect 4); readers iterate a snapshot outside the lock.
 */
final class SubscriptionRegistry<S> {
    private final Map<String, List<S>> byTask = new HashMap<>();
    private int count;

    synchronized void add(String taskId, S sub) {
        List<S> old = byTask.get(taskId);
        List<S> subs = new ArrayList<>(old == null ? 1 : old.size() + 1);
        if (old != null) {
            subs.addAll(old);
        }
        subs.add(sub);
        byTask.put(taskId, subs);
        count++;
    }

    /** @return true if the subscription was registered */
    synchronized boolean remove(String taskId, S sub) {
        List<S> old = byTask.get(taskId);
        if (old == null || !old.contains(sub)) {
            return false;
        }
        if (old.size() == 1) {
            byTask.remove(taskId);
        } else {
            List<S> subs = new ArrayList<>(old);
            subs.remove(sub);
            byTask.put(taskId, subs);
        }
        count--;
        return true;
    }

    private synchronized List<S> snapshot(String taskId) {
        return byTask.get(taskId);
    }

    void forEach(String taskId, Consumer<S> action) {
        List<S> subs = snapshot(taskId);
        if (subs != null) {
            subs.forEach(action);
        }
    }

    synchronized boolean has(String taskId) {
        return byTask.containsKey(taskId);
    }

    /** @return how many subscriptions are registered */
    synchronized int size() {
        return count;
    }

    synchronized List<S> all() {
        List<S> out = new ArrayList<>(count);
        byTask.values().forEach(out::addAll);
        return out;
    }
}
