package dev.agenttasks.testkit.postgres;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

import java.net.ServerSocket;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Without a reachable PostgreSQL the extension fails with a message that says what to do; it never skips. */
class PostgresExtensionFailureTest {

    @Test
    void anUnreachableExternalServerFailsWithAClearMessage() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        String url = "jdbc:postgresql://127.0.0.1:" + closedPort + "/none";
        PostgresExtension extension = new PostgresExtension(Map.of(PostgresExtension.URL_ENV, url));

        assertThatThrownBy(extension::server)
                .isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("No PostgreSQL for the tests")
                .hasMessageContaining(PostgresExtension.URL_ENV + "=" + url);
    }

    @Test
    void schemaNamesAreCheckedAndUnique() {
        PostgresServer server = new ExternalPostgres("jdbc:postgresql://localhost/x", "u", "");
        String a = server.uniqueSchemaName("t");
        String b = server.uniqueSchemaName("t");
        org.assertj.core.api.Assertions.assertThat(a).isNotEqualTo(b).matches("t_[a-z0-9]+_[0-9]+");
        assertThatThrownBy(() -> server.uniqueSchemaName("x; drop")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> server.dropSchema("Bad\"name")).isInstanceOf(IllegalArgumentException.class);
    }
}
