package dev.agenttasks.internal;

import java.security.SecureRandom;

/**
 * Task and message ids: {@code task_} plus 26 lower-case Crockford base-32 characters, a 48-bit
 * millisecond time then 80 random bits, incremented within the same millisecond, so ids made by one
 * process sort in creation order. URL-safe and opaque to callers.
 */
public final class Ids {
    private static final char[] ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz".toCharArray();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static long lastMillis;
    private static long hi16;
    private static long lo64;

    private Ids() {
    }

    /**
     * Where an engine gets its task and message ids. The engine uses {@link #TIME_ORDERED}; a test that replays
     * interleavings (Lincheck) needs the same ids in every run and sets a {@link #counting()} source.
     */
    interface Source {
        String task();

        String message();
    }

    /** Time-ordered random ids: {@link #task()} and {@link #message()}. */
    static final Source TIME_ORDERED = new Source() {
        @Override
        public String task() {
            return Ids.task();
        }

        @Override
        public String message() {
            return Ids.message();
        }
    };

    /** @return ids {@code task_1}, {@code task_2}, … and {@code msg_1}, … (tests only: not unique across runs) */
    static Source counting() {
        java.util.concurrent.atomic.AtomicLong n = new java.util.concurrent.atomic.AtomicLong();
        return new Source() {
            @Override
            public String task() {
                return "task_" + n.incrementAndGet();
            }

            @Override
            public String message() {
                return "msg_" + n.incrementAndGet();
            }
        };
    }

    /** @return a new task id */
    public static String task() {
        return "task_" + next();
    }

    /** @return a new message id */
    public static String message() {
        return "msg_" + next();
    }

    private static synchronized String next() {
        long now = System.currentTimeMillis();
        if (now > lastMillis) {
            lastMillis = now;
            hi16 = RANDOM.nextInt(1 << 15); // leave headroom for increments
            lo64 = RANDOM.nextLong();
        } else {
            lo64++;
            if (lo64 == 0) {
                hi16++;
            }
        }
        char[] out = new char[26];
        // 128 bits: 48 time | 16 hi | 64 lo ; encode 130 bits (2 leading zero bits)
        long t = lastMillis;
        int pos = 25;
        long lo = lo64;
        long hi = (t << 16) | (hi16 & 0xFFFF);
        for (int i = 0; i < 26; i++) {
            int v = (int) (lo & 31);
            out[pos--] = ALPHABET[v];
            lo = (lo >>> 5) | ((hi & 31) << 59);
            hi >>>= 5;
        }
        return new String(out);
    }
}
