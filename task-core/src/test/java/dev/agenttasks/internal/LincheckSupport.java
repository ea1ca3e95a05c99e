package dev.agenttasks.internal;

import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Assumptions;

/** Runs a Lincheck model-checking test, only on a JDK where Lincheck 3.7 is known to find races. */
final class LincheckSupport {
    private LincheckSupport() {
    }

    /**
     * Explores interleavings of the threads the body starts. Lincheck 3.7 misses races silently on
     * newer JDKs (see research/concurrency-testing.md), so on anything but JDK 17 the test is reported
     * as skipped, never as passed.
     */
    static void explore(int invocations, Runnable body) {
        Assumptions.assumeTrue(Runtime.version().feature() == 17,
                "Lincheck 3.7 explores interleavings reliably only on JDK 17; this JDK is " + Runtime.version());
        Lincheck.runConcurrentTest(invocations, body);
    }

    static void join(Thread... threads) {
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
