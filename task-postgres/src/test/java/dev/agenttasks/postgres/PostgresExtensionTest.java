package dev.agenttasks.postgres;

import dev.agenttasks.testkit.postgres.PostgresExtension;
import dev.agenttasks.testkit.postgres.PostgresServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/** The testkit's extension gives a working server, and a restart really breaks open connections. */
class PostgresExtensionTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void serverAnswersAndRestartBreaksOpenConnections() throws Exception {
        PostgresServer server = PG.server();
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SHOW server_version_num")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isGreaterThanOrEqualTo(140000);
            }
            server.restart();
            assertThat(c.isValid(5)).isFalse();
        }
        try (Connection c = server.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
    }
}
