package dev.agenttasks.sqlite;

import dev.agenttasks.TaskStoreException;

import java.nio.file.Path;

/**
 * The database file is SQLite but this store cannot use it: it was written by a newer version of the
 * store (a higher schema version than this one knows), or it holds tables of another application.
 * Nothing was written to the file.
 */
public class SchemaVersionException extends TaskStoreException {
    private static final long serialVersionUID = 1L;

    /** The value of {@link #foundVersion()} for a database that holds another application's tables. */
    public static final int FOREIGN_DATABASE = -1;

    private final transient Path path;
    /** The schema version found in the file, or {@link #FOREIGN_DATABASE}. */
    private final int foundVersion;
    /** The highest schema version this store knows. */
    private final int supportedVersion;

    /**
     * @param path             the database file
     * @param foundVersion     the schema version found, or {@link #FOREIGN_DATABASE}
     * @param supportedVersion the highest schema version this store knows
     * @param message          what is wrong
     */
    public SchemaVersionException(Path path, int foundVersion, int supportedVersion, String message) {
        super(message);
        this.path = path;
        this.foundVersion = foundVersion;
        this.supportedVersion = supportedVersion;
    }

    /** @return the database file */
    public Path path() {
        return path;
    }

    /** @return the schema version found in the file, or {@link #FOREIGN_DATABASE} */
    public int foundVersion() {
        return foundVersion;
    }

    /** @return the highest schema version this store can use */
    public int supportedVersion() {
        return supportedVersion;
    }
}
