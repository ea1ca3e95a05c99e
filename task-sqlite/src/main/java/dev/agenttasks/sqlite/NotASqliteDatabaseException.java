package dev.agenttasks.sqlite;

import dev.agenttasks.TaskStoreException;

import java.nio.file.Path;

/**
 * The file given to {@link SqliteTaskStore} exists but is not an SQLite database (its header is not
 * SQLite's), or it is not a regular file. Nothing was written to it.
 */
public class NotASqliteDatabaseException extends TaskStoreException {
    private static final long serialVersionUID = 1L;

    private final transient Path path;

    /**
     * @param path    the file
     * @param message what is wrong with it
     */
    public NotASqliteDatabaseException(Path path, String message) {
        super(message);
        this.path = path;
    }

    /** @return the file */
    public Path path() {
        return path;
    }
}
