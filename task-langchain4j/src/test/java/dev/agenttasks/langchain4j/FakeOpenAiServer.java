package dev.agenttasks.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * An OpenAI-compatible chat-completions endpoint for tests, on a plain {@link ServerSocket}: it answers
 * {@code POST /v1/chat/completions} with scripted replies, streamed as server-sent events over real
 * HTTP/1.1, and records every request body. Owning the socket lets a reply block on reading it, so the
 * test learns the moment the client closes the connection (cancel) without polling.
 */
final class FakeOpenAiServer implements AutoCloseable {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** One scripted answer to one request. */
    interface Reply {
        void write(Socket socket, OutputStream out) throws IOException;
    }

    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-openai");
        t.setDaemon(true);
        return t;
    });
    private final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
    private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    private FakeOpenAiServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    static FakeOpenAiServer start() throws IOException {
        return new FakeOpenAiServer();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getLocalPort() + "/v1";
    }

    FakeOpenAiServer enqueue(Reply... rs) {
        replies.addAll(List.of(rs));
        return this;
    }

    /** @return the JSON bodies of the requests received so far, in order */
    List<JsonNode> requests() {
        return List.copyOf(requests);
    }

    /** @return the {@code messages} of the n-th request (from 0) */
    JsonNode messages(int n) {
        return requests.get(n).get("messages");
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                open.add(s);
                threads.execute(() -> serve(s));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            InputStream in = socket.getInputStream();
            String requestLine = line(in);
            int length = 0;
            for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
                int colon = h.indexOf(':');
                if (colon > 0 && h.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
                    length = Integer.parseInt(h.substring(colon + 1).trim());
                }
            }
            byte[] body = in.readNBytes(length);
            OutputStream out = socket.getOutputStream();
            if (requestLine == null || !requestLine.startsWith("POST /v1/chat/completions")) {
                status(404, "{\"error\":{\"message\":\"no such endpoint: " + requestLine + "\"}}").write(socket, out);
                return;
            }
            requests.add(MAPPER.readTree(body));
            Reply r = replies.poll();
            if (r == null) {
                r = status(500, "{\"error\":{\"message\":\"the test scripted no reply for this request\"}}");
            }
            r.write(socket, out);
            out.flush();
        } catch (IOException e) {
            // the client went away
        } finally {
            open.remove(socket);
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : open) {
            s.close();
        }
        threads.shutdownNow();
    }

    // ------------------------------------------------------------------ replies

    private static void sseHeaders(OutputStream out) throws IOException {
        out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String chunk(ObjectNode delta, String finishReason) {
        ObjectNode c = MAPPER.createObjectNode();
        c.put("id", "chatcmpl-test");
        c.put("object", "chat.completion.chunk");
        c.put("created", 1_700_000_000L);
        c.put("model", "test-model");
        ObjectNode choice = c.putArray("choices").addObject();
        choice.put("index", 0);
        choice.set("delta", delta);
        if (finishReason == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finishReason);
        }
        return c.toString();
    }

    private static ObjectNode content(String text) {
        ObjectNode d = MAPPER.createObjectNode();
        d.put("role", "assistant");
        d.put("content", text);
        return d;
    }

    /** An answer streamed token by token. */
    static Reply text(String... tokens) {
        return (socket, out) -> {
            sseHeaders(out);
            for (String t : tokens) {
                event(out, chunk(content(t), null));
            }
            event(out, chunk(MAPPER.createObjectNode(), "stop"));
            event(out, "[DONE]");
        };
    }

    /** One tool call, its arguments streamed in two pieces. */
    static Reply toolCall(String id, String name, String arguments) {
        return (socket, out) -> {
            sseHeaders(out);
            ObjectNode first = MAPPER.createObjectNode();
            first.put("role", "assistant");
            first.putNull("content");
            ObjectNode call = first.putArray("tool_calls").addObject();
            call.put("index", 0);
            call.put("id", id);
            call.put("type", "function");
            call.putObject("function").put("name", name).put("arguments", "");
            event(out, chunk(first, null));
            int half = arguments.length() / 2;
            for (String piece : List.of(arguments.substring(0, half), arguments.substring(half))) {
                ObjectNode d = MAPPER.createObjectNode();
                ArrayNode calls = d.putArray("tool_calls");
                ObjectNode c = calls.addObject();
                c.put("index", 0);
                c.putObject("function").put("arguments", piece);
                event(out, chunk(d, null));
            }
            event(out, chunk(MAPPER.createObjectNode(), "tool_calls"));
            event(out, "[DONE]");
        };
    }

    /** An error answer with a JSON body. */
    static Reply status(int code, String body) {
        return (socket, out) -> {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            out.write(("HTTP/1.1 " + code + " Scripted\r\nContent-Type: application/json\r\nContent-Length: "
                    + b.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
        };
    }

    /** A stream whose data is not JSON. */
    static Reply malformed() {
        return (socket, out) -> {
            sseHeaders(out);
            event(out, "{\"choices\": [{\"delta\": {\"content\": \"Hel");
            event(out, "this is not json }");
            event(out, "[DONE]");
        };
    }

    /**
     * Streams one token, completes {@code streaming}, then holds the stream open until the client
     * closes the connection, which completes {@code closed}.
     */
    static Reply hang(String token, CompletableFuture<Void> streaming, CompletableFuture<Void> closed) {
        return (socket, out) -> {
            sseHeaders(out);
            event(out, chunk(content(token), null));
            streaming.complete(null);
            try {
                while (socket.getInputStream().read() != -1) {
                    // the client sends nothing more; wait for it to close
                }
            } catch (IOException e) {
                // reset by the client: closed as well
            }
            closed.complete(null);
        };
    }
}
