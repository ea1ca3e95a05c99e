package dev.agenttasks.sqlite;

/**
 * How hard a commit of the {@link SqliteTaskStore} is pushed to the disk (SQLite's {@code synchronous}
 * setting, with the WAL journal the store always uses). In both modes the database file is never
 * corrupted by a crash; they differ in which committed writes a crash can take back.
 */
public enum Durability {
    /**
     * {@code PRAGMA synchronous=NORMAL} (the default). A commit is written to the write-ahead log but the
     * log is synced to the disk only at checkpoints. Every committed write survives a crash or a kill of
     * the process (the JVM, the host application); a power loss or an operating-system crash may take
     * back the writes of the last moments (the database stays consistent, it only loses those commits).
     * Fast: no disk sync per commit.
     */
    NORMAL,
    /**
     * {@code PRAGMA synchronous=FULL}. The write-ahead log is synced to the disk at every commit, so a
     * committed write survives a power loss or an operating-system crash too (as far as the disk honours
     * its sync). Each commit waits for one disk sync, which the engine's group commit shares among all
     * the events of a batch.
     */
    FULL
}
