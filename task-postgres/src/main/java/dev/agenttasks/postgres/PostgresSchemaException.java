package dev.agenttasks.postgres;

import dev.agenttasks.TaskStoreException;

/**
 * The store's schema in the database cannot be used: it was written by a newer version of the store (a higher
 * schema version than this one knows), or tables of the store's names there belong to another application.
 * Nothing was written to the database.
 */
public class PostgresSchemaException extends TaskStoreException {
    private static final long serialVersionUID = 1L;

    /** The value of {@link #foundVersion()} when the schema holds another application's tables of the store's names. */
    public static final int FOREIGN_LAYOUT = -1;

    /** The database schema the store was opened on. */
    private final String schema;
    /** The schema version found, or {@link #FOREIGN_LAYOUT}. */
    private final int foundVersion;
    /** The highest schema version this store knows. */
    private final int supportedVersion;

    /**
     * @param schema           the database schema
     * @param foundVersion     the schema version found, or {@link #FOREIGN_LAYOUT}
     * @param supportedVersion the highest schema version this store knows
     * @param message          what is wrong
     */
    public PostgresSchemaException(String schema, int foundVersion, int supportedVersion, String message) {
        super(message);
        this.schema = schema;
        this.foundVersion = foundVersion;
        this.supportedVersion = supportedVersion;
    }

    /** @return the database schema the store was opened on */
    public String schema() {
        return schema;
    }

    /** @return the schema version found, or {@link #FOREIGN_LAYOUT} */
    public int foundVersion() {
        return foundVersion;
    }

    /** @return the highest schema version this store can use */
    public int supportedVersion() {
        return supportedVersion;
    }
}
