package dev.agenttasks.sqlite;

import dev.agenttasks.TaskStoreException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The schema, as versioned SQL files on the class path under {@code dev/agenttasks/sqlite/migrations/}.
 * File {@code V<n>__<description>.sql} takes a database from version {@code n-1} to {@code n}; the
 * applied versions are recorded in the {@code schema_version} table.
 */
final class Migrations {

    /** Every migration, in version order; entry {@code i} is version {@code i + 1}. */
    static final List<String> FILES = List.of("V1__init.sql", "V2__compact_events_and_indexed_counts.sql",
            "V3__hosts.sql", "V4__task_upkeep_without_triggers.sql");

    /** The schema version this store writes. */
    static final int LATEST = FILES.size();

    static final String VERSION_TABLE_DDL = "CREATE TABLE IF NOT EXISTS schema_version ("
            + "version INTEGER NOT NULL PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)";

    private Migrations() {
    }

    /** @param version 1 to {@link #LATEST} @return its description, from the file name */
    static String description(int version) {
        String file = FILES.get(version - 1);
        return file.substring(file.indexOf("__") + 2, file.length() - ".sql".length()).replace('_', ' ');
    }

    /** @param version 1 to {@link #LATEST} @return the statements of that migration, in order */
    static List<String> statements(int version) {
        String file = FILES.get(version - 1);
        String sql;
        try (InputStream in = Migrations.class.getResourceAsStream("migrations/" + file)) {
            if (in == null) {
                throw new TaskStoreException("schema migration " + file + " is missing from the class path");
            }
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TaskStoreException("cannot read schema migration " + file, e);
        }
        // Statements end with ';' at the end of a line; a CREATE TRIGGER runs to its line "END;".
        List<String> out = new ArrayList<>();
        StringBuilder stmt = new StringBuilder();
        for (String line : sql.split("\n", -1)) {
            String s = line.strip();
            if (s.startsWith("--") || (s.isEmpty() && stmt.length() == 0)) {
                continue;
            }
            stmt.append(line).append('\n');
            boolean trigger = stmt.toString().stripLeading().toUpperCase(Locale.ROOT).startsWith("CREATE TRIGGER");
            if (trigger ? s.equalsIgnoreCase("END;") : s.endsWith(";")) {
                String done = stmt.toString().strip();
                out.add(trigger ? done : done.substring(0, done.length() - 1).strip());
                stmt.setLength(0);
            }
        }
        if (!stmt.toString().isBlank()) {
            out.add(stmt.toString().strip());
        }
        return out;
    }
}
