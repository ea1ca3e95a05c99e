package dev.agenttasks.testkit;

import dev.agenttasks.spi.TaskStore;

/** The real engine over the in-memory store passes the engine contract. */
class InMemoryEngineContractTest extends TaskEngineContract {

    private StoreHandle current;

    @Override
    protected TaskStore newStore() {
        current = new StoreHandle(TaskStore.inMemory());
        return current;
    }

    @Override
    protected TaskStore reopenStore() {
        current = current.reopen();
        return current;
    }
}
