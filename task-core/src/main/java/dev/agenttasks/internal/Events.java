package dev.agenttasks.internal;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.spi.JsonEncoded;

import java.util.Map;

/** What an event costs in memory budgets: the size of its encoding. */
final class Events {
    /** Fixed cost of an event besides its type and data: ids, seq, timestamp, object headers. */
    static final int OVERHEAD = 64;

    private Events() {
    }

    /**
     * @return the length of the event's type and compact JSON data (the encoding the emitter already
     *         computed, when it did) plus {@link #OVERHEAD}; UTF-16 chars, which a store writes as at
     *         least as many bytes
     */
    static int size(TaskEvent e) {
        return size(e.type(), e.data());
    }

    static int size(String type, Map<String, Object> data) {
        long n;
        if (data instanceof JsonEncoded) {
            n = ((JsonEncoded) data).json().length();
        } else {
            StringBuilder sb = new StringBuilder(64);
            Json.write(sb, data);
            n = sb.length();
        }
        return (int) Math.min(Integer.MAX_VALUE, n + type.length() + OVERHEAD);
    }
}
