package dev.agenttasks.internal;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The batched event poll of remote subscribers under every interleaving Lincheck explores: a model of
 * {@link RemoteEvents#tick()} (one {@code lastSeqs} read, then a signal to each subscription behind it) and
 * of the pass logic of {@link EventSubscription#run()} (serialised by a work-in-progress counter; a page
 * shorter than asked marks the subscription caught up until the next pass), racing with another host that
 * appends events, with and without a push wake-up. Whatever the order, the subscription delivers a gapless,
 * duplicate-free prefix of the log, and once the writers are done one more poll brings it to the end: an
 * event appended between a poll's read and the subscription's read is never lost.
 */
class RemotePollLincheckTest {
    private static final int PAGE = 2;

    /** The other host's log: its last stored seq. */
    static final class Log {
        final AtomicLong last = new AtomicLong();

        /** {@code events(afterSeq, PAGE)}: the seqs stored after {@code afterSeq}, at most a page. */
        List<Long> page(long afterSeq) {
            long end = Math.min(last.get(), afterSeq + PAGE);
            List<Long> out = new ArrayList<>();
            for (long s = afterSeq + 1; s <= end; s++) {
                out.add(s);
            }
            return out;
        }
    }

    /** EventSubscription's pass logic with unbounded demand; a signal runs the pass on the signalling thread. */
    static final class Sub {
        final Log log;
        final AtomicInteger wip = new AtomicInteger();
        final List<Long> delivered = new ArrayList<>(); // guarded by the wip protocol
        volatile long cursor;
        private boolean drained;

        Sub(Log log) {
            this.log = log;
        }

        boolean behind(long seq) {
            return cursor < seq;
        }

        void signal() {
            if (wip.getAndIncrement() == 0) {
                run();
            }
        }

        private void run() {
            int missed = 1;
            while (true) {
                drained = false;
                while (!drained) {
                    List<Long> page = log.page(cursor);
                    if (page.size() < PAGE) {
                        drained = true;
                    }
                    for (long s : page) {
                        delivered.add(s);
                        cursor = s;
                    }
                }
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }
    }

    /** RemoteEvents.tick for one watched task: one read of the last seq, then the behind check. */
    static void tick(Log log, Sub sub) {
        long l = log.last.get();
        if (sub.behind(l)) {
            sub.signal();
        }
    }

    private static void check(Sub sub, long total) {
        List<Long> expected = new ArrayList<>();
        for (long s = 1; s <= total; s++) {
            expected.add(s);
        }
        if (!sub.delivered.equals(expected)) {
            throw new AssertionError("delivered " + sub.delivered + ", expected " + expected);
        }
    }

    @Test
    void pollsAloneDeliverEveryEventAppendedBetweenAReadAndTheSubscriptionsRead() {
        LincheckSupport.explore(200, () -> {
            Log log = new Log();
            Sub sub = new Sub(log);
            Thread writer = new Thread(() -> {
                for (int i = 0; i < 3; i++) {
                    log.last.incrementAndGet(); // no push (SQLite)
                }
            });
            Thread poller = new Thread(() -> {
                tick(log, sub);
                tick(log, sub);
            });
            writer.start();
            poller.start();
            LincheckSupport.join(writer, poller);
            tick(log, sub); // the next poll after the last append
            check(sub, 3);
        });
    }

    @Test
    void aWakeUpDuringAReadInFlightIsNeverCoalescedAway() {
        LincheckSupport.explore(200, () -> {
            Log log = new Log();
            Sub sub = new Sub(log);
            Thread writer = new Thread(() -> {
                for (int i = 0; i < 3; i++) {
                    log.last.incrementAndGet();
                    sub.signal(); // the push wake-up after each commit
                }
            });
            Thread poller = new Thread(() -> tick(log, sub));
            writer.start();
            poller.start();
            LincheckSupport.join(writer, poller);
            check(sub, 3); // every append was followed by a wake-up: no poll needed
        });
    }
}
