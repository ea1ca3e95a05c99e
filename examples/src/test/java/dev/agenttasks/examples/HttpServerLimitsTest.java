package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The HTTP server's own limits: header sizes, read timeouts, keep-alive, and JSON for every error it answers. */
class HttpServerLimitsTest {

    @Test
    void aHugeUrlIs414AndHugeHeadersAre431AsJson() throws Exception {
        try (HostFixture host = HostFixture.start()) {
            int port = host.server.port();
            String hugePath = "/api/tasks?q=" + "a".repeat(1024 * 1024);
            Reply url = exchange(port, "GET " + hugePath + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n");
            assertThat(url.status).isEqualTo(414);
            assertThat(url.header("content-type")).startsWith("application/json");
            assertThat(HostFixture.json(url.body).get("field").asText()).isEqualTo("url");

            Reply headers = exchange(port, "GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nX-Big: "
                    + "b".repeat(1024 * 1024) + "\r\n\r\n");
            assertThat(headers.status).isEqualTo(431);
            assertThat(headers.header("content-type")).startsWith("application/json");
            assertThat(HostFixture.json(headers.body).get("field").asText()).isEqualTo("headers");

            // just under the configured limit is fine
            Reply fine = exchange(port, "GET /api/tasks?q=" + "c".repeat(8000) + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nConnection: close\r\n\r\n");
            assertThat(fine.status).isEqualTo(200);
        }
    }

    @Test
    void malformedRequestsGetJsonNotHtml() throws Exception {
        try (HostFixture host = HostFixture.start()) {
            int port = host.server.port();
            for (String bad : List.of("GARBAGE\r\n\r\n", "GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nContent-Length: nope\r\n\r\n", "GET /api/tasks HTTP/9.9\r\n\r\n")) {
                Reply r = exchange(port, bad);
                assertThat(r.status).as(bad).isBetween(400, 505);
                assertThat(r.header("content-type")).as(bad).startsWith("application/json");
                JsonNode body = HostFixture.json(r.body);
                assertThat(body.get("error").asText()).as(bad).isNotBlank();
                assertThat(r.body).doesNotContain("<html");
            }
        }
    }

    @Test
    void aConnectionThatStopsSendingItsHeadersIsClosedAfterTheIdleTimeoutAndHoldsNoThread() throws Exception {
        try (HostFixture host = HostFixture.start(b -> b.idleTimeout(Duration.ofMillis(800)))) {
            int port = host.server.port();
            int busyBefore = host.server.busyThreads();
            List<Socket> halfOpen = new ArrayList<>();
            try {
                for (int i = 0; i < 50; i++) {
                    Socket s = new Socket("127.0.0.1", port);
                    s.setSoTimeout(20_000);
                    s.getOutputStream().write(("GET /api/tasks HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nX-Slow: ")
                            .getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                    halfOpen.add(s);
                }
                // fifty requests stuck in their headers do not take fifty threads (a few may be busy for a
                // moment while the selector hands the new connections over: the bound is far from fifty)
                assertThat(host.server.busyThreads()).isLessThan(busyBefore + 25);
                // and the server still answers others meanwhile
                assertThat(host.get("/api/tasks").statusCode()).isEqualTo(200);
                // each is closed by the server after the idle timeout (0.8 s), well before the 20 s read
                // timeout of this socket (which would fail the test with a SocketTimeoutException)
                for (Socket s : halfOpen) {
                    InputStream in = s.getInputStream();
                    try {
                        int first = in.read();
                        if (first != -1) {
                            // an answer is fine too, if it is a JSON 408 and the connection then ends
                            String reply = (char) first + new String(in.readAllBytes(), StandardCharsets.UTF_8);
                            assertThat(reply).startsWith("HTTP/1.1 408").contains("application/json");
                        }
                    } catch (SocketException reset) {
                        // closed with a reset: also an end
                    }
                }
                await().atMost(Duration.ofSeconds(15)).until(() -> host.server.busyThreads() <= busyBefore + 2);
            } finally {
                for (Socket s : halfOpen) {
                    s.close();
                }
            }
        }
    }

    @Test
    void keptAliveConnectionsServeSeveralRequests() throws Exception {
        try (HostFixture host = HostFixture.start();
             Socket s = new Socket("127.0.0.1", host.server.port())) {
            s.setSoTimeout(10_000);
            int port = host.server.port();
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < 3; i++) {
                out.write(("GET /api/tasks/running/count HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                Reply r = Reply.read(in);
                assertThat(r.status).isEqualTo(200);
                assertThat(r.header("connection")).isNotEqualTo("close");
                assertThat(HostFixture.json(r.body).get("count").asInt()).isZero();
            }
        }
    }

    /** Runs each sender on a thread of its own: the common pool may have a single worker (JDK 25 on 2 CPUs). */
    private static final java.util.concurrent.Executor OWN_THREAD = r -> {
        Thread t = new Thread(r, "test-sender");
        t.setDaemon(true);
        t.start();
    };

    /** Sends a request while reading the reply, so a server that answers before reading everything is heard. */
    static Reply exchange(int port, String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    out.write(request.getBytes(StandardCharsets.ISO_8859_1));
                    out.flush();
                } catch (IOException ignored) {
                    // the server may close once it has answered; the reply is what the test checks
                }
            }, OWN_THREAD);
            Reply r = Reply.read(s.getInputStream());
            sending.exceptionally(t -> null);
            return r;
        }
    }

    /** A minimal HTTP/1.1 response reader: status, headers, and a Content-Length or chunked body. */
    static final class Reply {
        int status;
        final List<String[]> headers = new ArrayList<>();
        String body;

        String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return "";
        }

        static Reply read(InputStream in) throws IOException {
            Reply r = new Reply();
            String statusLine = line(in);
            assertThat(statusLine).startsWith("HTTP/1.1 ");
            r.status = Integer.parseInt(statusLine.substring(9, 12));
            String l;
            while (!(l = line(in)).isEmpty()) {
                int colon = l.indexOf(':');
                r.headers.add(new String[] {l.substring(0, colon).trim(), l.substring(colon + 1).trim()});
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            if (r.header("transfer-encoding").equalsIgnoreCase("chunked")) {
                int size;
                while ((size = Integer.parseInt(line(in).trim(), 16)) > 0) {
                    body.write(in.readNBytes(size));
                    line(in);
                }
                line(in);
            } else {
                body.write(in.readNBytes(Integer.parseInt(r.header("content-length"))));
            }
            r.body = body.toString(StandardCharsets.UTF_8);
            return r;
        }

        private static String line(InputStream in) throws IOException {
            StringBuilder sb = new StringBuilder();
            int c;
            while ((c = in.read()) != -1 && c != '\n') {
                if (c != '\r') {
                    sb.append((char) c);
                }
            }
            if (c == -1 && sb.length() == 0) {
                throw new IOException("connection closed");
            }
            return sb.toString();
        }
    }
}
