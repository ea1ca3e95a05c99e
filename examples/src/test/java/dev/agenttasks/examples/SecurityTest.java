package dev.agenttasks.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** DNS-rebinding and cross-origin defences, the optional bearer token, and the loopback default. */
class SecurityTest {

    @Test
    void bindsToLoopbackByDefault() {
        assertThat(HostConfig.builder().build().bindAddress()).isEqualTo("127.0.0.1");
        try (HostFixture host = HostFixture.start()) {
            assertThat(host.base.getHost()).isEqualTo("127.0.0.1");
        }
    }

    @Test
    void aForgedHostHeaderIsRejected() throws IOException {
        try (HostFixture host = HostFixture.start()) {
            int port = host.server.port();
            assertThat(raw(port, "GET /api/tasks HTTP/1.1\r\nHost: evil.example:" + port + "\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 403").contains("\"field\":\"Host\"");
            assertThat(raw(port, "GET / HTTP/1.1\r\nHost: attacker.test\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 403");
            assertThat(raw(port, "POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1.nip.io:" + port
                    + "\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"))
                    .startsWith("HTTP/1.1 403");
            assertThat(raw(port, "GET /api/tasks HTTP/1.1\r\nHost: localhost:" + (port + 1)
                    + "\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 403");
            // the host's own names pass
            assertThat(raw(port, "GET /api/tasks HTTP/1.1\r\nHost: localhost:" + port + "\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
            assertThat(raw(port, "GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
            assertThat(host.manager.list(dev.agenttasks.TaskQuery.all()).tasks()).isEmpty();
        }
    }

    @Test
    void aForeignOriginIsRejectedAndNoCorsHeaderIsEverSent() {
        try (HostFixture host = HostFixture.start()) {
            HttpResponse<String> evil = host.send(host.request("/api/tasks").header("Origin", "http://evil.example")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"demo\",\"message\":\"x\"}")).build());
            TasksApiTest.assertError(evil, 403, "Origin");
            HttpResponse<String> nullOrigin = host.send(host.request("/api/tasks").header("Origin", "null").GET().build());
            TasksApiTest.assertError(nullOrigin, 403, "Origin");
            HttpResponse<String> otherPort = host.send(host.request("/api/tasks")
                    .header("Origin", "http://127.0.0.1:" + (host.server.port() + 1)).GET().build());
            TasksApiTest.assertError(otherPort, 403, "Origin");
            HttpResponse<String> preflight = host.send(host.request("/api/tasks").header("Origin", "http://evil.example")
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
            assertThat(preflight.statusCode()).isEqualTo(403);
            assertThat(preflight.headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control"));
            assertThat(host.manager.list(dev.agenttasks.TaskQuery.all()).tasks()).isEmpty();

            HttpResponse<String> same = host.send(host.request("/api/tasks")
                    .header("Origin", "http://127.0.0.1:" + host.server.port())
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"demo\",\"message\":\"same origin\"}")).build());
            assertThat(same.statusCode()).isEqualTo(201);
            assertThat(same.headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control"));
        }
    }

    @Test
    void anErrorAnsweredBeforeTheBodyIsReadClosesTheConnectionSoItIsNotReused() throws Exception {
        try (HostFixture host = HostFixture.start(b -> b.token("s3cret-token"))) {
            int port = host.server.port();
            // a POST without the token, its body still on the way: 401 at once, and the connection is not kept
            HttpServerLimitsTest.Reply r = HttpServerLimitsTest.exchange(port, "POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1:"
                    + port + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"agent_id\":");
            assertThat(r.status).isEqualTo(401);
            assertThat(r.header("connection")).isEqualToIgnoringCase("close");
            // a GET without a body keeps its connection
            HttpServerLimitsTest.Reply get = HttpServerLimitsTest.exchange(port, "GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1:"
                    + port + "\r\n\r\n");
            assertThat(get.status).isEqualTo(401);
            assertThat(get.header("connection")).isEmpty();
        }
    }

    @Test
    void aConfiguredTokenIsRequiredOnEveryApiRoute() {
        try (HostFixture host = HostFixture.start(b -> b.token("s3cret-token"))) {
            String body = "{\"agent_id\":\"demo\",\"message\":\"please ask\"}";
            HttpResponse<String> missing = host.postJson("/api/tasks", body);
            TasksApiTest.assertError(missing, 401, "Authorization");
            assertThat(missing.headers().firstValue("WWW-Authenticate")).contains("Bearer");
            HttpResponse<String> wrong = host.send(host.request("/api/tasks").header("Authorization", "Bearer nope")
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
            TasksApiTest.assertError(wrong, 401, "Authorization");
            assertThat(host.manager.list(dev.agenttasks.TaskQuery.all()).tasks()).isEmpty();

            HttpResponse<String> ok = host.send(authed(host, "/api/tasks")
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build());
            assertThat(ok.statusCode()).isEqualTo(201);
            String id = HostFixture.json(ok.body()).get("id").asText();

            // reads return prompts and outputs: they need the token too
            for (String read : new String[] {"/api/tasks", "/api/tasks/" + id, "/api/tasks/running/count", "/api/agents",
                "/api/tasks/" + id + "/stream", "/api/nothing"}) {
                TasksApiTest.assertError(host.get(read), 401, "Authorization");
            }
            assertThat(host.send(authed(host, "/api/tasks").GET().build()).statusCode()).isEqualTo(200);
            assertThat(host.send(authed(host, "/api/tasks/" + id).GET().build()).body()).contains("please ask");
            assertThat(host.send(authed(host, "/api/agents").GET().build()).statusCode()).isEqualTo(200);
            // every state-changing route needs it
            TasksApiTest.assertError(host.postJson("/api/tasks/" + id + "/message", "{\"message\":\"x\"}"), 401, "Authorization");
            TasksApiTest.assertError(host.postJson("/api/tasks/" + id + "/cancel", ""), 401, "Authorization");
            TasksApiTest.assertError(host.delete("/api/tasks/" + id), 401, "Authorization");
            // the page itself loads without it (it asks for the token)
            assertThat(host.get("/").statusCode()).isEqualTo(200);
            assertThat(host.get("/app.js").statusCode()).isEqualTo(200);
            HttpResponse<String> del = host.send(authed(host, "/api/tasks/" + id).DELETE().build());
            assertThat(del.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void anEventSourceOpensStreamsWithAStreamCookieThatIsNotTheTokenAndOpensNothingElse() throws Exception {
        try (HostFixture host = HostFixture.start(b -> b.token("s3cret-token"))) {
            String id = HostFixture.json(host.send(authed(host, "/api/tasks").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"demo\",\"message\":\"streamed\"}"))
                    .build()).body()).get("id").asText();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> HostFixture.json(
                    host.send(authed(host, "/api/tasks/" + id).GET().build()).body()).get("status").asText().equals("completed"));

            TasksApiTest.assertError(host.postJson("/api/stream-session", ""), 401, "Authorization");
            HttpResponse<String> session = host.send(authed(host, "/api/stream-session")
                    .POST(HttpRequest.BodyPublishers.noBody()).build());
            assertThat(session.statusCode()).isEqualTo(200);
            String setCookie = session.headers().firstValue("Set-Cookie").orElseThrow();
            assertThat(setCookie).contains("HttpOnly").contains("SameSite=Strict").contains("Path=/api/")
                    .doesNotContain("s3cret-token");
            String cookie = setCookie.split(";", 2)[0];

            HttpResponse<String> stream = host.send(host.request("/api/tasks/" + id + "/stream").header("Cookie", cookie)
                    .GET().build());
            assertThat(stream.statusCode()).isEqualTo(200);
            assertThat(SseParser.parseAll(stream.body())).isNotEmpty();
            // the cookie opens streams only
            TasksApiTest.assertError(host.send(host.request("/api/tasks/" + id).header("Cookie", cookie).GET().build()),
                    401, "Authorization");
            TasksApiTest.assertError(host.send(host.request("/api/tasks/" + id + "/stream")
                    .header("Cookie", cookie.substring(0, cookie.indexOf('=') + 1) + "forged").GET().build()), 401, "Authorization");
            // the bearer header opens a stream as well
            assertThat(host.send(authed(host, "/api/tasks/" + id + "/stream").GET().build()).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aStreamCookieExpires() {
        long[] now = {0};
        RequestGuard guard = new RequestGuard("127.0.0.1", 8080, java.util.Set.of(), "tok", () -> now[0]);
        String cookie = guard.issueStreamCookie().split(";", 2)[0];
        assertThat(cookie).startsWith("agent_tasks_stream_8080=");
        assertThat(guard.liveStreamCookie("other=1; " + cookie)).isTrue();
        now[0] += RequestGuard.STREAM_SESSION_TTL.toNanos() - 1;
        assertThat(guard.liveStreamCookie(cookie)).isTrue();
        now[0] += 1;
        assertThat(guard.liveStreamCookie(cookie)).isFalse();
        assertThat(new RequestGuard("127.0.0.1", 8080, java.util.Set.of(), null).issueStreamCookie()).isNull();
    }

    private static HttpRequest.Builder authed(HostFixture host, String path) {
        return host.request(path).header("Authorization", "Bearer s3cret-token");
    }

    @Test
    void aBlankTokenMeansNoToken() {
        assertThat(HostConfig.builder().token("  ").build().token()).isNull();
    }

    static String raw(int port, String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
