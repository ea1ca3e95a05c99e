package dev.agenttasks.postgres;

import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.MultiHostContract;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The testkit's multi-writer contract on PostgreSQL: several managers, each with its own store object (and its own
 * listening connection) on one schema of the shared server.
 *
 * <p>One inherited test is left out here, see {@link KnownRace}; {@link HostProcessesTest} covers a host that
 * stops (SIGSTOP), is taken over and fenced out, and serves again once it heartbeats, on PostgreSQL.
 */
@ExtendWith(PostgresMultiHostContractTest.KnownRace.class)
class PostgresMultiHostContractTest extends MultiHostContract {

    /**
     * {@code aHostThatStopsHeartbeatingIsTakenOverAndFencedOut} ends by creating a task on host 0, which never
     * heartbeats again in that test (interval 1 h) while host 1 counts it dead after 1 s; host 1's sweep (every
     * 100 ms) may then take the new task over mid-turn and fail it as interrupted, as the protocol says it should.
     * On PostgreSQL a turn's commits take long enough for that to happen in about one run of four (seen twice);
     * the contract test needs host 0 alive again for that last step (reported to its owner).
     */
    static final class KnownRace implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            boolean racy = context.getTestMethod().map(m -> m.getName()
                    .equals("aHostThatStopsHeartbeatingIsTakenOverAndFencedOut")).orElse(false);
            return racy ? ConditionEvaluationResult.disabled("races on PostgreSQL: the test's host 0 stays dead for "
                    + "host 1 while it is asked to serve new work; see the class comment")
                    : ConditionEvaluationResult.enabled("no known race");
        }
    }

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final SchemaPerTest STORES = new SchemaPerTest(PG, "multiwriter", 16);

    @Override
    protected TaskStore newHostStore(int host) {
        if (host == 0) {
            // the previous test's hosts are closed by now (the contract closes them after each test)
            STORES.dropSchema();
            return STORES.newStore();
        }
        return STORES.reopenStore();
    }

    @AfterAll
    static void dropLastSchemaAndClosePool() {
        STORES.dropSchema();
        STORES.close();
    }
}
