package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The example host with {@code --postgres}: tasks kept in PostgreSQL (embedded, or AGENT_TASKS_PG_URL). */
class PostgresHostTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final ObjectMapper json = new ObjectMapper();

    private JsonNode send(HttpRequest request, int expected) throws Exception {
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(expected);
        return json.readTree(r.body());
    }

    private String status(URI base, String id) throws Exception {
        return send(HttpRequest.newBuilder(base.resolve("/api/tasks/" + id)).build(), 200).get("status").asText();
    }

    @Test
    void theHostKeepsItsTasksInPostgresAcrossARestart(@TempDir Path data) throws Exception {
        String schema = PG.server().uniqueSchemaName("host");
        // the password comes from the environment, as the README recommends, not from the command line
        HostConfig config = HostConfig.parse(new String[] {"--port", "0", "--data-dir", data.toString(),
                "--demo-token-delay-ms", "1", "--postgres", PG.server().jdbcUrl(), "--postgres-user", PG.server().user(),
                "--postgres-schema", schema}, java.util.Map.of(HostConfig.PG_PASSWORD_ENV, PG.server().password()));
        String id;
        try (ExampleHost host = ExampleHost.start(config)) {
            assertThat(host.database()).isNull();
            assertThat(host.storage()).contains("PostgreSQL").contains(schema);
            assertThat(Files.exists(data.resolve("tasks.db"))).isFalse();
            id = send(HttpRequest.newBuilder(host.url().resolve("/api/tasks"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"demo\",\"message\":\"kept in postgres\"}"))
                    .build(), 201).get("id").asText();
            URI base = host.url();
            await().atMost(Duration.ofSeconds(60)).until(() -> status(base, id).equals("completed"));
        }
        try (Connection c = PG.server().connect();
             PreparedStatement ps = c.prepareStatement("SELECT status FROM \"" + schema + "\".tasks WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("COMPLETED");
            }
        }
        try (ExampleHost again = ExampleHost.start(config)) {
            assertThat(status(again.url(), id)).isEqualTo("completed");
            // the status counters come from the store's kept counts
            JsonNode counts = send(HttpRequest.newBuilder(again.url().resolve("/api/counts")).build(), 200);
            assertThat(counts.toString()).contains("completed");
            assertThat(again.manager().countByStatus()).containsEntry(dev.agenttasks.TaskStatus.COMPLETED, 1L);
        }
        assertThat(Files.exists(data.resolve("tasks.db"))).isFalse();
    }
}
