package dev.agenttasks.testkit;

import dev.agenttasks.spi.TaskStore;

/** The in-memory store passes the store side of the multi-host protocol. */
class InMemoryMultiHostStoreContractTest extends MultiHostStoreContract {

    @Override
    protected TaskStore newStore() {
        return TaskStore.inMemory();
    }
}
