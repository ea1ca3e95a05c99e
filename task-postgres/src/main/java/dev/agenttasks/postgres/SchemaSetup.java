package dev.agenttasks.postgres;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Inspects and migrates the store's schema on one connection, in one transaction (moved out of the store). */
final class SchemaSetup {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresTaskStore.class);
    /** The tables every applied version has. */
    private static final String[] TABLES = {"schema_version", "tasks", "events", "messages"};
    private static final int SCHEMA_VERSION = Migrations.LATEST;

    private final Connection c;
    private final String schema;

    SchemaSetup(Connection c, String schema) {
        this.c = c;
        this.schema = schema;
    }

    void migrate() throws SQLException {
        // concurrent openers (several hosts starting) wait here for each other, per schema
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?, hashtext(?))")) {
            ps.setInt(1, 0x61746b73); // "atks"
            ps.setString(2, schema);
            ps.executeQuery().close();
        }
        int current = inspect();
        if (current == SCHEMA_VERSION) {
            return;
        }
        try (Statement s = c.createStatement()) {
            // only when missing: CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema
            // exists, and a role that only owns its schema should be able to open the store
            boolean exists;
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_namespace WHERE nspname = ?")) {
                ps.setString(1, schema);
                try (ResultSet rs = ps.executeQuery()) {
                    exists = rs.next();
                }
            }
            if (!exists) {
                s.execute("CREATE SCHEMA IF NOT EXISTS \"" + schema + "\"");
            }
            s.execute("SET LOCAL search_path TO \"" + schema + "\"");
            s.execute(Migrations.VERSION_TABLE_DDL);
            for (int v = current + 1; v <= SCHEMA_VERSION; v++) {
                for (String stmt : Migrations.statements(v)) {
                    s.execute(stmt);
                }
                if (v == 2) {
                    titleTrigramIndex(s);
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO \"" + schema
                        + "\".schema_version (version, description, applied_at) VALUES (?, ?, ?)")) {
                    ps.setInt(1, v);
                    ps.setString(2, Migrations.description(v));
                    ps.setLong(3, Times.toNanos(Instant.now(), "applied_at"));
                    ps.executeUpdate();
                }
                LOG.info("PostgreSQL store {}: applied schema migration {} ({})", schema, v,
                        Migrations.description(v));
            }
        }
    }

    /**
     * Indexes the lower-cased titles with pg_trgm, so a substring search reads the index instead of every
     * task. Uses the extension where it is already installed (any schema), else creates it in
     * {@code public}; if that is not possible (contrib not installed, or the role may not create it: it is a
     * trusted extension from PostgreSQL 13), the store works without the index, the search scans, and a
     * warning names the statement an administrator can run later.
     */
    private void titleTrigramIndex(Statement s) throws SQLException {
        // two tries: a store migrating another schema may create the extension at the same moment, and then
        // this one's CREATE EXTENSION fails with a unique violation once that one commits
        for (int attempt = 1; ; attempt++) {
            Savepoint sp = c.setSavepoint();
            try {
                String ext = trigramSchema(s);
                if (ext == null) {
                    s.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public");
                    ext = trigramSchema(s);
                }
                s.execute("CREATE INDEX tasks_title_trgm_idx ON tasks USING gin (title_lower \"" + ext
                        + "\".gin_trgm_ops)");
                c.releaseSavepoint(sp);
                return;
            } catch (SQLException e) {
                c.rollback(sp);
                if (attempt == 1 && SqlStates.UNIQUE_VIOLATION.equals(SqlStates.state(e))) {
                    continue;
                }
                warnNoTrigramIndex(e);
                return;
            }
        }
    }

    private void warnNoTrigramIndex(SQLException e) {
        LOG.warn("PostgreSQL store {}: no trigram index on task titles, the title search scans all tasks "
                + "({}); to add it: CREATE EXTENSION pg_trgm; CREATE INDEX tasks_title_trgm_idx ON \"{}\"."
                + "tasks USING gin (title_lower gin_trgm_ops)", schema, e.getMessage(), schema);
    }

    private String trigramSchema(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                + "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** @return the version found (0 for none), after refusing a newer or foreign layout */
    private int inspect() throws SQLException {
        Map<String, Set<String>> columns = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT table_name, column_name FROM "
                + "information_schema.columns WHERE table_schema = ? AND table_name = ANY (?::text[])")) {
            ps.setString(1, schema);
            ps.setArray(2, c.createArrayOf("text", TABLES));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getString(2));
                }
            }
        }
        Set<String> versionColumns = columns.get("schema_version");
        if (versionColumns == null) {
            if (!columns.isEmpty()) {
                throw new PostgresSchemaException(schema, PostgresSchemaException.FOREIGN_LAYOUT, SCHEMA_VERSION,
                        "schema " + schema + " holds tables " + columns.keySet() + " of another application "
                                + "(no agent-tasks schema_version table); choose another schema");
            }
            return 0;
        }
        if (!versionColumns.equals(Set.of("version", "description", "applied_at"))) {
            throw new PostgresSchemaException(schema, PostgresSchemaException.FOREIGN_LAYOUT, SCHEMA_VERSION,
                    "schema " + schema + " has a schema_version table of another application (columns "
                            + versionColumns + "); choose another schema");
        }
        int found;
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT coalesce(max(version), 0) FROM \"" + schema
                     + "\".schema_version")) {
            found = rs.next() ? rs.getInt(1) : 0;
        }
        if (found > SCHEMA_VERSION) {
            throw new PostgresSchemaException(schema, found, SCHEMA_VERSION, "schema " + schema
                    + " has agent-tasks schema version " + found + ", written by a newer store; this one knows "
                    + "versions up to " + SCHEMA_VERSION);
        }
        if (found >= 1 && !columns.keySet().containsAll(List.of(TABLES))) {
            throw new PostgresSchemaException(schema, PostgresSchemaException.FOREIGN_LAYOUT, SCHEMA_VERSION,
                    "schema " + schema + " is at agent-tasks schema version " + found + " but lacks tables: has "
                            + columns.keySet());
        }
        if (found == 0 && columns.size() > 1) {
            throw new PostgresSchemaException(schema, PostgresSchemaException.FOREIGN_LAYOUT, SCHEMA_VERSION,
                    "schema " + schema + " holds tables " + columns.keySet() + " but no applied agent-tasks "
                            + "migration; choose another schema");
        }
        return found;
    }
}
