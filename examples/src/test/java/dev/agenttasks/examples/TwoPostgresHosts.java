package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.postgres.PostgresTaskStore;
import dev.agenttasks.spi.TaskStore;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.postgres.PostgresServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Two example hosts ("A" and "B", {@code --host-id A} / {@code B}) started like {@code ExampleHost} with
 * {@code --postgres} on one schema of a PostgreSQL server, each with its own manager, HikariCP pool and
 * HTTP server. Their agent {@code demo} is a {@link ScriptedAgentRunner} per host, so a test controls a
 * turn with gates and knows which host ran it.
 */
final class TwoPostgresHosts implements AutoCloseable {

    /** The agent id, the bundled catalog's demo agent (so the page's agent list matches). */
    static final String AGENT = "demo";

    final PostgresServer pg;
    final String schema;
    final ScriptedAgentRunner runnerA = new ScriptedAgentRunner().agent(AGENT, "Demo agent", "demo-1");
    final ScriptedAgentRunner runnerB = new ScriptedAgentRunner().agent(AGENT, "Demo agent", "demo-1");
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    ExampleHost a;
    ExampleHost b;

    private TwoPostgresHosts(PostgresServer pg) {
        this.pg = pg;
        this.schema = pg.uniqueSchemaName("twohosts");
    }

    /**
     * Starts host A, then host B, on a fresh schema.
     *
     * @param pg   the server
     * @param data a temporary folder (each host gets its own data folder in it)
     * @return the hosts
     * @throws IOException if a host can not start
     */
    static TwoPostgresHosts start(PostgresServer pg, Path data) throws IOException {
        TwoPostgresHosts hosts = new TwoPostgresHosts(pg);
        try {
            hosts.a = ExampleHost.start(hosts.config("A", data.resolve("a")), catalog -> hosts.runnerA);
            hosts.b = ExampleHost.start(hosts.config("B", data.resolve("b")), catalog -> hosts.runnerB);
            return hosts;
        } catch (IOException | RuntimeException e) {
            hosts.close();
            throw e;
        }
    }

    private HostConfig config(String hostId, Path dataDir) {
        // the password from the environment, as the README recommends
        return HostConfig.parse(new String[] {"--port", "0", "--data-dir", dataDir.toString(), "--postgres", pg.jdbcUrl(),
                "--postgres-user", pg.user(), "--postgres-schema", schema, "--host-id", hostId, "--heartbeat-seconds", "1"},
                Map.of(HostConfig.PG_PASSWORD_ENV, pg.password()));
    }

    HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static HttpRequest.Builder request(ExampleHost host, String path) {
        return HttpRequest.newBuilder(host.url().resolve(path)).timeout(Duration.ofSeconds(20));
    }

    /** @return the JSON body of a request answered with the expected status */
    JsonNode call(HttpRequest request, int expected) {
        HttpResponse<String> r = send(request);
        if (r.statusCode() != expected) {
            throw new AssertionError(request.method() + " " + request.uri() + ": expected " + expected + " but got "
                    + r.statusCode() + " " + r.body());
        }
        return HostFixture.json(r.body());
    }

    JsonNode get(ExampleHost host, String path) {
        return call(request(host, path).GET().build(), 200);
    }

    static HttpRequest postJson(ExampleHost host, String path, String json, String... headers) {
        HttpRequest.Builder b = request(host, path).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return b.POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    /** @return the task's status as the host reports it */
    String status(ExampleHost host, String id) {
        return get(host, "/api/tasks/" + id).get("status").asText();
    }

    /** @return the task's status in the host's list ({@code GET /api/tasks}), or null if it is not listed */
    String listedStatus(ExampleHost host, String id) {
        for (JsonNode t : get(host, "/api/tasks")) {
            if (t.get("id").asText().equals(id)) {
                return t.get("status").asText();
            }
        }
        return null;
    }

    /**
     * Opens the task's event stream on a host and reads it to its end on another thread.
     *
     * @return the events, once the host ended the stream
     */
    CompletableFuture<List<SseParser.Event>> stream(ExampleHost host, String id) {
        HttpRequest r = HttpRequest.newBuilder(host.url().resolve("/api/tasks/" + id + "/stream")).GET().build();
        return http.sendAsync(r, HttpResponse.BodyHandlers.ofInputStream()).thenApplyAsync(resp -> {
            if (resp.statusCode() != 200) {
                throw new AssertionError("stream on " + host.url() + ": " + resp.statusCode());
            }
            List<SseParser.Event> events = new ArrayList<>();
            try (InputStream in = resp.body()) {
                SseParser p = new SseParser(in);
                SseParser.Event e;
                while ((e = p.next()) != null) {
                    events.add(e);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return events;
        });
    }

    /** @return the task's events as the store holds them, read through a store object of its own */
    List<TaskEvent> storedEvents(String id) {
        try (TaskStore store = PostgresTaskStore.builder(pg.jdbcUrl(), pg.user(), pg.password()).schema(schema).build()) {
            return store.events(id, 0, 100_000);
        }
    }

    /** @return the URI of the page of a host */
    static URI page(ExampleHost host) {
        return host.url();
    }

    @Override
    public void close() {
        try {
            if (b != null) {
                b.close();
            }
        } finally {
            if (a != null) {
                a.close();
            }
            pg.dropSchema(schema);
        }
    }
}
