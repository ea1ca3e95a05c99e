package dev.agenttasks.postgres;

import dev.agenttasks.spi.StoreChangeListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The store's push wake-ups: one {@link NotifyListener} (one dedicated connection), started when the first
 * {@link StoreChangeListener} registers and stopped when the last one leaves or the store closes; payloads
 * ({@code e:}, {@code p:}, {@code r:} with task ids, see the V3 migration) are turned into listener calls.
 * After the listening connection was (re)established, {@link StoreChangeListener#taskQueued(String)} is called
 * with {@code null}: wake-ups may have been missed, the engine looks at the queue (its polling covers the rest).
 */
final class ChangeFeed implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ChangeFeed.class);

    private final String channel;
    private final NotifyListener.Connector connector;
    private final List<StoreChangeListener> listeners = new CopyOnWriteArrayList<>();
    private NotifyListener listener;
    private boolean closed;

    ChangeFeed(String schema, NotifyListener.Connector connector) {
        this.channel = NotifyListener.channel(schema);
        this.connector = Objects.requireNonNull(connector, "connector");
    }

    synchronized boolean add(StoreChangeListener l) {
        Objects.requireNonNull(l, "listener");
        if (closed) {
            return false;
        }
        listeners.add(l);
        if (listener == null) {
            listener = new NotifyListener(channel, connector, this::dispatch, this::gap);
            listener.start();
        }
        return true;
    }

    void remove(StoreChangeListener l) {
        NotifyListener stop = null;
        synchronized (this) {
            listeners.remove(l);
            if (listeners.isEmpty() && listener != null) {
                stop = listener;
                listener = null;
            }
        }
        if (stop != null) {
            stop.close();
        }
    }

    /** @return true while the dedicated connection listens (for tests and diagnostics) */
    synchronized boolean isListening() {
        return listener != null && listener.isListening();
    }

    private void gap() {
        for (StoreChangeListener l : listeners) {
            l.taskQueued(null);
        }
    }

    void dispatch(List<String> payloads) {
        for (String p : payloads) {
            if (p == null || p.length() < 2 || p.charAt(1) != ':') {
                LOG.debug("Ignoring a notification on {} that is not ours: {}", channel, p);
                continue;
            }
            char kind = p.charAt(0);
            String body = p.substring(2);
            if (body.equals("*")) {
                // too many ids for one payload: polling finds the events and requests; look at the queue now
                if (kind == 'p') {
                    gap();
                }
                continue;
            }
            for (String id : body.split(",", -1)) {
                if (id.isEmpty()) {
                    continue;
                }
                for (StoreChangeListener l : listeners) {
                    try {
                        switch (kind) {
                            case 'e' -> l.eventsAppended(id);
                            case 'p' -> l.taskQueued(id);
                            case 'r' -> l.requestAdded(id);
                            default -> LOG.debug("Unknown notification kind on {}: {}", channel, p);
                        }
                    } catch (RuntimeException e) {
                        LOG.warn("A store change listener failed on a wake-up for task {}: {}", id, e.toString());
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        NotifyListener stop;
        synchronized (this) {
            closed = true;
            listeners.clear();
            stop = listener;
            listener = null;
        }
        if (stop != null) {
            stop.close();
        }
    }
}
