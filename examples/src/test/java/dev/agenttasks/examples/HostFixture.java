package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agenttasks.TaskLimits;
import dev.agenttasks.TaskManager;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Consumer;

/** An in-process host for tests: an in-memory manager with the bundled agents, served on an ephemeral port. */
final class HostFixture implements AutoCloseable {

    final TaskManager manager;
    final TasksHttpServer server;
    final URI base;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private HostFixture(TaskManager manager, TasksHttpServer server) {
        this.manager = manager;
        this.server = server;
        this.base = server.url();
    }

    static HostFixture start() {
        return start(b -> { }, TaskLimits.defaults());
    }

    static HostFixture start(Consumer<HostConfig.Builder> settings) {
        return start(settings, TaskLimits.defaults());
    }

    static HostFixture start(Consumer<HostConfig.Builder> settings, TaskLimits limits) {
        HostConfig.Builder b = HostConfig.builder().port(0).heartbeatInterval(Duration.ofMillis(200))
                .demoTokenDelay(Duration.ofMillis(2));
        settings.accept(b);
        HostConfig config = b.build();
        return start(config, new CatalogAgentRunner(AgentCatalog.bundled(), config.demoTokenDelay()), limits);
    }

    static HostFixture start(HostConfig config, AgentRunner runner, TaskLimits limits) {
        TaskStore store = TaskStore.inMemory();
        TaskManager manager = TaskManager.builder().store(store).runner(runner).limits(limits)
                .shutdownTimeout(Duration.ofSeconds(1)).build();
        try {
            TasksHttpServer server = new TasksHttpServer(manager, AgentCatalog.bundled(), config, store);
            server.start();
            return new HostFixture(manager, server);
        } catch (IOException e) {
            manager.close();
            throw new UncheckedIOException(e);
        }
    }

    URI uri(String path) {
        return base.resolve(path);
    }

    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(20));
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

    HttpResponse<String> get(String path) {
        return send(request(path).GET().build());
    }

    HttpResponse<String> postJson(String path, String json) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    HttpResponse<String> delete(String path) {
        return send(request(path).DELETE().build());
    }

    /** Creates a demo task and returns its id. */
    String createDemo(String message) {
        HttpResponse<String> r = postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":" + Json.string(message) + "}");
        if (r.statusCode() != 201) {
            throw new AssertionError("create failed: " + r.statusCode() + " " + r.body());
        }
        return json(r.body()).get("id").asText();
    }

    String status(String id) {
        return json(get("/api/tasks/" + id).body()).get("status").asText();
    }

    static JsonNode json(String body) {
        try {
            return Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        server.close();
        manager.close();
    }
}
