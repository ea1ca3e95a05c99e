/**
 * agent-tasks core: the public API ({@code dev.agenttasks}), the SPIs a host plugs in
 * ({@code dev.agenttasks.spi}) and the engine, which stays internal.
 */
module dev.agenttasks.core {
    requires org.slf4j;

    exports dev.agenttasks;
    exports dev.agenttasks.spi;
}
