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

    /**
     * Runs the body once under Lincheck so that the classes it loads are instrumented before the real
     * exploration: on a loaded machine the first invocation of a big body can spend Lincheck's fixed
     * 30 s per-invocation bound on instrumentation alone and be reported as hung. A failure here is
     * ignored; the exploration that follows reports real ones.
     */
    static void warmUp(Runnable body) {
        if (Runtime.version().feature() != 17) {
            return;
        }
        for (int i = 0; i < 4; i++) {
            long t0 = System.nanoTime();
            try {
                Lincheck.INSTANCE.runConcurrentTestInternal$lincheck(1, new org.jetbrains.lincheck.LincheckSettings(false,
                        org.jetbrains.lincheck.LincheckSettings.Companion.getDEFAULT().getLoopIterationsBeforeThreadSwitch(),
                        org.jetbrains.lincheck.LincheckSettings.Companion.getDEFAULT().getLoopBound(),
                        org.jetbrains.lincheck.LincheckSettings.Companion.getDEFAULT().getRecursionBound()), body);
                System.err.println("Lincheck warm-up " + i + " passed in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
                return;
            } catch (AssertionError e) {
                System.err.println("Lincheck warm-up " + i + " after " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + e.getMessage().trim());
            }
        }
    }

    /**
     * As {@link #explore}, with switch points only in the project's code, not inside the JDK's classes
     * (their blocking calls are still modelled): an engine-sized body runs in reasonable time.
     */
    static void exploreProjectCode(int invocations, Runnable body) {
        Assumptions.assumeTrue(Runtime.version().feature() == 17,
                "Lincheck 3.7 explores interleavings reliably only on JDK 17; this JDK is " + Runtime.version());
        org.jetbrains.lincheck.LincheckSettings d = org.jetbrains.lincheck.LincheckSettings.Companion.getDEFAULT();
        org.jetbrains.lincheck.LincheckSettings settings = new org.jetbrains.lincheck.LincheckSettings(false,
                d.getLoopIterationsBeforeThreadSwitch(), d.getLoopBound(), d.getRecursionBound());
        Lincheck.INSTANCE.runConcurrentTestInternal$lincheck(invocations, settings, body);
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
