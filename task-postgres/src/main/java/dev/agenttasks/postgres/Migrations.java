package dev.agenttasks.postgres;

import dev.agenttasks.TaskStoreException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The schema, as versioned SQL files on the class path under {@code dev/agenttasks/postgres/migrations/}.
 * File {@code V<n>__<description>.sql} takes a database from version {@code n-1} to {@code n}; the
 * applied versions are recorded in the {@code schema_version} table.
 */
final class Migrations {

    /** Every migration, in version order; entry {@code i} is version {@code i + 1}. */
    static final List<String> FILES = List.of("V1__init.sql", "V2__status_counts_and_title_trigrams.sql",
            "V3__several_hosts.sql");

    /** The schema version this store writes. */
    static final int LATEST = FILES.size();

    /** The version table, created in the store's schema (search_path set) before any migration. */
    static final String VERSION_TABLE_DDL = "CREATE TABLE IF NOT EXISTS schema_version ("
            + "version integer NOT NULL PRIMARY KEY, description text NOT NULL, applied_at bigint NOT NULL)";

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
        StringBuilder body = new StringBuilder();
        for (String line : sql.split("\n", -1)) {
            if (!line.strip().startsWith("--")) {
                body.append(line).append('\n');
            }
        }
        // statements end at ';', except inside a dollar-quoted ($$ ... $$) function body
        List<String> out = new ArrayList<>();
        String text = body.toString();
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            if (text.startsWith("$$", i)) {
                quoted = !quoted;
                i++;
            } else if (text.charAt(i) == ';' && !quoted) {
                add(out, text.substring(start, i));
                start = i + 1;
            }
        }
        add(out, text.substring(start));
        return out;
    }

    private static void add(List<String> out, String stmt) {
        if (!stmt.isBlank()) {
            out.add(stmt.strip());
        }
    }
}
