/**
 * Test support for agent-tasks, published so that any store or host can prove itself.
 *
 * <ul>
 *   <li>{@link dev.agenttasks.testkit.TaskStoreContract}: the JUnit 5 contract every
 *       {@link dev.agenttasks.spi.TaskStore} must pass, grouped by capability in nested classes;
 *       {@link dev.agenttasks.testkit.DurableTaskStoreContract} adds reopening for durable stores.
 *       Extend it and implement {@code newStore()}. Its parts are a chain of classes
 *       ({@link dev.agenttasks.testkit.TaskStoreContractSupport} with the fixture and helpers,
 *       {@link dev.agenttasks.testkit.TaskStoreRecordsContract},
 *       {@link dev.agenttasks.testkit.TaskStoreQueriesContract});
 *       extending {@code TaskStoreContract} runs them all.</li>
 *   <li>{@link dev.agenttasks.testkit.TaskEngineContract}: an end-to-end suite that drives the real engine
 *       over a store (create, run, replay and live events, follow-ups, cancel, delete, list, counts,
 *       recovery after a restart, the concurrency limit). Implement {@code newStore()} and
 *       {@code reopenStore()}. Its parts are {@link dev.agenttasks.testkit.TaskEngineContractSupport} (fixture
 *       and helpers) and {@link dev.agenttasks.testkit.TaskEngineTurnsContract}.</li>
 *   <li>{@link dev.agenttasks.testkit.ScriptedAgentRunner}: a fake {@link dev.agenttasks.spi.AgentRunner}
 *       scripted in code, with {@link dev.agenttasks.testkit.ScriptedAgentRunner.Gate gates} the test
 *       releases and awaits for started and finished turns.</li>
 *   <li>{@link dev.agenttasks.testkit.RecordingSubscriber}: a {@link java.util.concurrent.Flow.Subscriber}
 *       with demand control, awaits with timeouts and checks of the Reactive Streams rules it can see.</li>
 *   <li>{@link dev.agenttasks.testkit.EventLogs}: checks of an event log (gapless seqs, legal status
 *       history, one terminal event at the end).</li>
 * </ul>
 *
 * <pre>{@code
 * class MyStoreContractTest extends DurableTaskStoreContract {
 *     @TempDir Path dir;
 *     @Override protected TaskStore newStore() { return MyStore.open(dir.resolve("tasks.db")); }
 *     @Override protected TaskStore reopenStore() { return MyStore.open(dir.resolve("tasks.db")); }
 * }
 * }</pre>
 *
 * <p>Everything here waits on latches, conditions and Awaitility, never on sleeps.
 */
package dev.agenttasks.testkit;
