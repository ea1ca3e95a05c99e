package dev.agenttasks.internal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The engine's threads: named daemon threads, and the turn executor chosen by the JVM's abilities. */
final class EngineThreads {
    private EngineThreads() {
    }

    static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** A virtual thread per turn on Java 21+, else a bounded pool of platform threads. */
    static ExecutorService defaultTurnExecutor(int maxConcurrent) {
        try {
            Object ofVirtual = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> builderClass = Class.forName("java.lang.Thread$Builder");
            Object named = builderClass.getMethod("name", String.class, long.class).invoke(ofVirtual, "agent-task-", 1L);
            ThreadFactory factory = (ThreadFactory) builderClass.getMethod("factory").invoke(named);
            return (ExecutorService) Executors.class.getMethod("newThreadPerTaskExecutor", ThreadFactory.class)
                    .invoke(null, factory);
        } catch (ReflectiveOperationException | RuntimeException e) {
            int threads = Math.min(256, maxConcurrent + 4);
            ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), named("agent-task-"));
            pool.allowCoreThreadTimeOut(true);
            return pool;
        }
    }
}
