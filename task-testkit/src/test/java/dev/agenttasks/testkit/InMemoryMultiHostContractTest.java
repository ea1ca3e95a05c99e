package dev.agenttasks.testkit;

import dev.agenttasks.spi.TaskStore;

/** Several managers on one in-memory store (each through its own handle) pass the multi-writer contract. */
class InMemoryMultiHostContractTest extends MultiHostContract {
    private TaskStore shared;

    @Override
    protected TaskStore newHostStore(int host) {
        if (host == 0) {
            shared = TaskStore.inMemory();
        }
        return new StoreHandle(shared);
    }
}
