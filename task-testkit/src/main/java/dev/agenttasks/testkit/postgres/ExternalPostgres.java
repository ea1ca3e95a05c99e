package dev.agenttasks.testkit.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** A server the developer or CI runs, named by the environment. */
final class ExternalPostgres extends PostgresServer {
    private final String url;
    private final String user;
    private final String password;

    ExternalPostgres(String url, String user, String password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    @Override
    public String jdbcUrl() {
        return url;
    }

    @Override
    public String user() {
        return user;
    }

    @Override
    public String password() {
        return password;
    }

    @Override
    public boolean isEmbedded() {
        return false;
    }

    @Override
    public synchronized void restart() {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE NOT pg_terminate_backend(pid)) "
                     + "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                     + "AND backend_type = 'client backend'")) {
            if (rs.next() && rs.getLong(1) > 0) {
                throw new IllegalStateException(rs.getLong(1) + " connections to " + url + " could not be terminated");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot terminate the connections to " + url + ": " + e.getMessage(), e);
        }
    }
}
