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
