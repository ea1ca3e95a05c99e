package dev.agenttasks.testkit;

import dev.agenttasks.spi.TaskStore;

/** The in-memory store of task-core passes the store contract. */
class InMemoryTaskStoreContractTest extends TaskStoreContract {

    @Override
    protected TaskStore newStore() {
        return TaskStore.inMemory();
    }
}
