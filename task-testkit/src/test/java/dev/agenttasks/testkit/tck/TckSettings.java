package dev.agenttasks.testkit.tck;

/** Settings shared by the TCK runs. */
final class TckSettings {
    /** How long the TCK waits for an expected signal. */
    static final long DEFAULT_TIMEOUT_MILLIS = 1000;
    /** How long the TCK watches for a signal that must not come. */
    static final long NO_SIGNALS_TIMEOUT_MILLIS = 100;
    /** How long the TCK waits for a cancelled subscriber to be garbage collected. */
    static final long GC_TIMEOUT_MILLIS = 2000;
    /** The longest stream the TCK asks for. */
    static final int MAX_ELEMENTS = 1024;

    private TckSettings() {
    }
}
