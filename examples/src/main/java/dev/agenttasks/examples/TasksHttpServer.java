package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.PayloadTooLargeException;
import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.TaskPage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The example host's HTTP server: the Tasks REST API, resumable Server-Sent Events streams and the
 * Tasks page, on Jetty 12's core server (no servlets, no web framework) with Jackson for JSON.
 *
 * <p>Jetty reads requests without holding a thread until the headers are complete; a connection that
 * sends nothing for {@link HostConfig#idleTimeout()} is closed (this bounds the wait for a request's
 * headers, for its body and between two requests of a kept-alive connection). A request line or header
 * block over {@link HostConfig#maxHeaderBytes()} is answered 414 or 431, and every error Jetty answers
 * itself (malformed requests included) has the same JSON body as the host's own errors.
 *
 * <h2>Routes</h2>
 * <ul>
 *   <li>{@code GET /api/tasks?status=&agent_id=&q=&limit=&cursor=}: a JSON array of tasks, newest first;
 *       {@code status} takes one or more comma-separated wire names; when there is a next page its cursor
 *       is in the {@code X-Next-Cursor} response header;</li>
 *   <li>{@code GET /api/tasks/running/count}: {@code {"count": n}} (running or waiting for input);</li>
 *   <li>{@code GET /api/tasks/{id}}, {@code DELETE /api/tasks/{id}}, {@code POST /api/tasks}
 *       (201 with the task), {@code POST /api/tasks/{id}/cancel}, {@code POST /api/tasks/{id}/message};</li>
 *   <li>{@code GET /api/tasks/{id}/stream}: the task's events as SSE, resuming after the
 *       {@code Last-Event-ID} header or the {@code after} parameter;</li>
 *   <li>{@code GET /api/agents}: the agent catalog; {@code GET /} and static files: the Tasks page;</li>
 *   <li>{@code GET /api/counts}: tasks per status and {@code total}; {@code POST /api/tasks/{id}/rerun}: a new
 *       task with a failed or cancelled task's agent, first message, title, folder and metadata (201);</li>
 *   <li>{@code POST /api/stream-session}: with a token configured, sets the cookie that lets an
 *       {@code EventSource} (which can not send headers) open event streams.</li>
 * </ul>
 * With a token configured, every {@code /api} route requires {@code Authorization: Bearer <token>}; event
 * streams take that header or the stream cookie. The page itself is served without it and asks for the token.
 * Errors are {@code {"error": "...", "field": "..."}} with 400 (bad input), 401 (token), 403 (foreign
 * Host/Origin), 404, 405, 409 (task does not accept the request), 413, 415, 429 (stream caps) or 503
 * (manager closed).
 */
public final class TasksHttpServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TasksHttpServer.class);
    private static final Pattern STATIC_NAME = Pattern.compile("[A-Za-z0-9_-]+\\.(html|js|css|svg|png|ico)");
    private static final Set<String> CREATE_FIELDS = Set.of("agent_id", "message", "content", "enable_skills",
            "enable_mcp", "add_dirs", "metadata", "title", "work_dir", "timeout_seconds", "options");
    private static final Set<String> MESSAGE_FIELDS = Set.of("message", "content");
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    private final TaskManager manager;
    private final AgentCatalog catalog;
    private final HostConfig config;
    private final StreamLimiter streams;
    private final Set<SseStream> openStreams = ConcurrentHashMap.newKeySet();
    private final Server server;
    private final ServerConnector connector;
    private final QueuedThreadPool threads;
    private final RequestGuard guard;
    private volatile boolean stopping;

    /**
     * Binds the server (not yet serving).
     *
     * @param manager the task manager to expose
     * @param catalog the agents, for {@code GET /api/agents}
     * @param config  the settings
     * @throws IOException if the address can not be bound
     */
    public TasksHttpServer(TaskManager manager, AgentCatalog catalog, HostConfig config) throws IOException {
        this.manager = manager;
        this.catalog = catalog;
        this.config = config;
        this.streams = new StreamLimiter(config.maxStreamsPerTask(), config.maxStreamsTotal());
        // every open event stream holds a thread while it waits for events; requests need a few more
        this.threads = new QueuedThreadPool(config.maxStreamsTotal() + 64, 4, 60_000);
        threads.setName("http");
        threads.setDaemon(true);
        this.server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        http.setRequestHeaderSize(config.maxHeaderBytes());
        http.setIdleTimeout(config.idleTimeout().toMillis());
        this.connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
        connector.setHost(config.bindAddress());
        connector.setPort(config.port());
        connector.setIdleTimeout(config.idleTimeout().toMillis());
        connector.setAcceptQueueSize(128);
        connector.setAcceptedTcpNoDelay(true);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                Exchange ex = new Exchange(request, response);
                TasksHttpServer.this.handle(ex);
                try {
                    ex.finish();
                    callback.succeeded();
                } catch (Throwable t) {
                    callback.failed(t);
                }
                return true;
            }
        });
        server.setErrorHandler(new JsonErrors());
        server.setStopTimeout(1000);
        connector.open(); // binds now, so the port is known and a busy port fails here
        this.guard = new RequestGuard(config.bindAddress(), port(), config.allowedHosts(), config.token());
    }

    /**
     * Starts serving.
     *
     * @throws IOException if the server can not start
     */
    public void start() throws IOException {
        try {
            server.start();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("could not start the HTTP server", e);
        }
        log.info("Serving on {}", url());
    }

    /** @return the bound port */
    public int port() {
        return connector.getLocalPort();
    }

    /** @return threads of the server's pool that are busy now (handling requests or streams) */
    int busyThreads() {
        return threads.getBusyThreads();
    }

    /** @return the base URL, for example {@code http://127.0.0.1:8080/} */
    public URI url() {
        String host = config.bindAddress();
        if (RequestGuard.isWildcard(host)) {
            host = "127.0.0.1";
        } else if (host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + port() + "/");
    }

    /** @return the number of event streams open now */
    public int openStreams() {
        return streams.open();
    }

    /** Ends the open event streams and stops the server. Does not close the manager. Idempotent. */
    @Override
    public void close() {
        if (stopping) {
            return;
        }
        stopping = true;
        for (SseStream s : openStreams) {
            s.stop();
        }
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("Stopping the HTTP server failed", e);
        }
    }

    /** Answers errors Jetty produces itself (malformed requests, 414, 431, timeouts) as JSON, not HTML. */
    private static final class JsonErrors extends ErrorHandler {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            Object code = request.getAttribute(ERROR_STATUS);
            int status = code instanceof Integer ? (Integer) code : response.getStatus();
            Object message = request.getAttribute(ERROR_MESSAGE);
            response.setStatus(status);
            HttpFields.Mutable h = response.getHeaders();
            h.put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
            h.put(HttpHeader.CACHE_CONTROL, "no-store");
            h.put("X-Content-Type-Options", "nosniff");
            response.write(true, ByteBuffer.wrap(body(status, message == null ? null : message.toString())), callback);
            return true;
        }

        @Override
        public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
            fields.put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
            fields.put("X-Content-Type-Options", "nosniff");
            return ByteBuffer.wrap(body(status, reason));
        }

        private static byte[] body(int status, String reason) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", switch (status) {
                case 414 -> "request line too long";
                case 431 -> "request headers too large";
                case 408 -> "request timed out";
                default -> reason == null || reason.isBlank() ? "bad request" : reason;
            });
            if (status == 414 || status == 431) {
                body.put("field", status == 414 ? "url" : "headers");
            }
            return Json.bytes(body);
        }
    }

    private void handle(Exchange ex) {
        try {
            HttpIo.securityHeaders(ex);
            guard.checkOrigin(ex);
            String path = ex.rawPath();
            if (path.equals("/api") || path.startsWith("/api/")) {
                api(ex, segments(path.substring(4)));
            } else {
                staticFile(ex, path);
            }
        } catch (Exception e) {
            fail(ex, e);
        }
    }

    private void fail(Exchange ex, Exception e) {
        int status;
        String field = null;
        String message = e.getMessage();
        if (e instanceof ApiException) {
            status = ((ApiException) e).status();
            field = ((ApiException) e).field();
        } else if (e instanceof PayloadTooLargeException) {
            status = 413;
            field = ((PayloadTooLargeException) e).field();
        } else if (e instanceof InvalidRequestException) {
            status = 400;
            field = ((InvalidRequestException) e).field();
        } else if (e instanceof NoSuchTaskException) {
            status = 404;
        } else if (e instanceof TaskNotAcceptingMessagesException) {
            status = 409;
        } else if (e instanceof ManagerClosedException) {
            status = 503;
        } else if (e instanceof IOException) {
            log.debug("I/O error on {} {}: {}", ex.method(), ex.rawPath(), e.toString());
            // the request could not be read (cut off, or too slow): answer if nothing was sent yet
            status = 400;
            field = "body";
            message = "the request could not be read";
        } else {
            status = 500;
            message = "internal error";
            log.error("Request {} {} failed", ex.method(), ex.rawPath(), e);
        }
        if (ex.responseCode() != -1) {
            return; // the response has started; nothing more can be said
        }
        try {
            if (status == 413 || status >= 500) {
                ex.setHeader("Connection", "close");
            }
            HttpIo.sendError(ex, status, field, message);
        } catch (IOException io) {
            log.debug("Could not send error {}: {}", status, io.toString());
        }
    }

    // ---------------------------------------------------------------- API

    private void api(Exchange ex, List<String> seg) throws IOException {
        String method = ex.method().toUpperCase(Locale.ROOT);
        int n = seg.size();
        boolean isStream = n == 3 && seg.get(0).equals("tasks") && seg.get(2).equals("stream");
        if (isStream) {
            guard.checkStream(ex);
        } else {
            guard.checkToken(ex);
        }
        if (n == 1 && seg.get(0).equals("stream-session")) {
            allow(ex, method, "POST");
            HttpIo.drain(ex);
            String cookie = guard.issueStreamCookie();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("token_required", cookie != null);
            if (cookie != null) {
                ex.addHeader("Set-Cookie", cookie);
                out.put("expires_in", RequestGuard.STREAM_SESSION_TTL.toSeconds());
            }
            HttpIo.sendJson(ex, 200, out);
        } else if (n == 1 && seg.get(0).equals("counts")) {
            allow(ex, method, "GET");
            HttpIo.sendJson(ex, 200, counts());
        } else if (n == 3 && seg.get(0).equals("tasks") && seg.get(2).equals("rerun")) {
            allow(ex, method, "POST");
            rerun(ex, seg.get(1));
        } else if (n == 1 && seg.get(0).equals("agents")) {
            allow(ex, method, "GET");
            HttpIo.sendJson(ex, 200, agents());
        } else if (n == 1 && seg.get(0).equals("tasks")) {
            allow(ex, method, "GET", "POST");
            if (method.equals("GET")) {
                list(ex);
            } else {
                create(ex);
            }
        } else if (n == 3 && seg.get(0).equals("tasks") && seg.get(1).equals("running") && seg.get(2).equals("count")) {
            allow(ex, method, "GET");
            HttpIo.sendJson(ex, 200, Map.of("count", manager.runningCount()));
        } else if (n == 2 && seg.get(0).equals("tasks")) {
            allow(ex, method, "GET", "DELETE");
            if (method.equals("GET")) {
                HttpIo.sendJson(ex, 200, Json.task(find(seg.get(1))));
            } else {
                delete(ex, seg.get(1));
            }
        } else if (n == 3 && seg.get(0).equals("tasks") && seg.get(2).equals("cancel")) {
            allow(ex, method, "POST");
            cancel(ex, seg.get(1));
        } else if (n == 3 && seg.get(0).equals("tasks") && seg.get(2).equals("message")) {
            allow(ex, method, "POST");
            message(ex, seg.get(1));
        } else if (isStream) {
            allow(ex, method, "GET");
            stream(ex, seg.get(1));
        } else {
            throw new ApiException(404, "no such route: " + ex.rawPath());
        }
    }

    private static void allow(Exchange ex, String method, String... allowed) {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        ex.setHeader("Allow", String.join(", ", allowed));
        throw new ApiException(405, "method " + method + " not allowed; allowed: " + String.join(", ", allowed));
    }

    private List<Map<String, Object>> agents() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (AgentCatalog.Entry e : catalog.entries()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", e.descriptor().id());
            m.put("name", e.descriptor().name());
            m.put("model", e.descriptor().model());
            m.put("runner", e.kind().name().toLowerCase(Locale.ROOT));
            out.add(m);
        }
        return out;
    }

    private void list(Exchange ex) throws IOException {
        Map<String, List<String>> params = HttpIo.query(ex);
        Set<TaskStatus> statuses = EnumSet.noneOf(TaskStatus.class);
        for (String value : params.getOrDefault("status", List.of())) {
            for (String s : value.split(",")) {
                if (!s.isBlank() && !s.trim().equalsIgnoreCase("all")) {
                    statuses.add(TaskStatus.parse(s));
                }
            }
        }
        int limit = TaskQuery.DEFAULT_LIMIT;
        String rawLimit = HttpIo.first(params, "limit");
        if (rawLimit != null && !rawLimit.isBlank()) {
            try {
                limit = Integer.parseInt(rawLimit.trim());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("limit", "limit must be a number: " + rawLimit);
            }
        }
        String q = blankToNull(HttpIo.first(params, "q"));
        TaskQuery query = new TaskQuery(statuses, blankToNull(HttpIo.first(params, "agent_id")), q, limit,
                blankToNull(HttpIo.first(params, "cursor")));
        TaskPage page = manager.list(query);
        if (page.nextCursor() != null) {
            ex.setHeader("X-Next-Cursor", page.nextCursor());
            ex.setHeader("Link", "</api/tasks?" + nextQuery(ex, page.nextCursor()) + ">; rel=\"next\"");
        }
        HttpIo.sendJson(ex, 200, Json.tasks(page.tasks()));
    }

    private static String nextQuery(Exchange ex, String cursor) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, List<String>> e : HttpIo.query(ex).entrySet()) {
            if (e.getKey().equals("cursor")) {
                continue;
            }
            for (String v : e.getValue()) {
                sb.append(enc(e.getKey())).append('=').append(enc(v)).append('&');
            }
        }
        return sb.append("cursor=").append(enc(cursor)).toString();
    }

    private void create(Exchange ex) throws IOException {
        ObjectNode body = jsonBody(ex);
        rejectUnknown(body, CREATE_FIELDS);
        String agentId = optionalText(body, "agent_id");
        if (agentId == null) {
            throw ApiException.badRequest("agent_id", "agent_id is required");
        }
        TaskRequest.Builder b = TaskRequest.builder(agentId);
        TaskMessage message = message(body, false);
        if (message != null) {
            b.message(message);
        }
        Map<String, Object> options = new LinkedHashMap<>();
        if (body.has("options") && !body.get("options").isNull()) {
            if (!body.get("options").isObject()) {
                throw ApiException.badRequest("options", "options must be an object");
            }
            options.putAll(Json.toMap(body.get("options")));
        }
        for (String flag : List.of("enable_skills", "enable_mcp")) {
            JsonNode v = body.get(flag);
            if (v != null && !v.isNull()) {
                if (!v.isBoolean()) {
                    throw ApiException.badRequest(flag, flag + " must be true or false");
                }
                options.put(flag, v.booleanValue());
            }
        }
        List<String> addDirs = stringList(body, "add_dirs");
        if (addDirs != null) {
            List<String> checked = new ArrayList<>();
            for (String dir : addDirs) {
                checked.add(checkedDir("add_dirs", dir));
            }
            addDirs = checked;
            options.put("add_dirs", addDirs);
        }
        b.options(options);
        String workDir = optionalText(body, "work_dir");
        if (workDir != null) {
            workDir = checkedDir("work_dir", workDir);
        }
        if (workDir == null && addDirs != null && !addDirs.isEmpty()) {
            workDir = addDirs.get(0);
        }
        b.workDir(workDir);
        b.title(optionalText(body, "title"));
        JsonNode metadata = body.get("metadata");
        if (metadata != null && !metadata.isNull()) {
            if (!metadata.isObject()) {
                throw ApiException.badRequest("metadata", "metadata must be an object of strings");
            }
            Iterator<Map.Entry<String, JsonNode>> it = metadata.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isTextual()) {
                    throw ApiException.badRequest("metadata", "metadata values must be strings: " + e.getKey());
                }
                b.metadata(e.getKey(), e.getValue().asText());
            }
        }
        JsonNode timeout = body.get("timeout_seconds");
        if (timeout != null && !timeout.isNull()) {
            if (!timeout.isNumber() || timeout.asDouble() <= 0 || timeout.asDouble() > 7 * 24 * 3600) {
                throw ApiException.badRequest("timeout_seconds", "timeout_seconds must be a positive number of seconds");
            }
            b.timeout(Duration.ofMillis((long) (timeout.asDouble() * 1000)));
        }
        Task task = manager.create(b.build());
        log.info("Task {} created over HTTP for agent {}", task.id(), task.agentId());
        ex.setHeader("Location", "/api/tasks/" + enc(task.id()));
        HttpIo.sendJson(ex, 201, Json.task(task));
    }

    private Map<String, Object> counts() {
        Map<TaskStatus, Long> by = manager.countByStatus();
        Map<String, Object> out = new LinkedHashMap<>();
        long total = 0;
        for (TaskStatus s : TaskStatus.values()) {
            long c = by.getOrDefault(s, 0L);
            out.put(s.wireName(), c);
            total += c;
        }
        out.put("total", total);
        return out;
    }

    /** A new task with the same agent, first message, title, work folder and metadata as a finished one. */
    private void rerun(Exchange ex, String id) throws IOException {
        HttpIo.drain(ex);
        Task old = find(id);
        if (old.status() != TaskStatus.FAILED && old.status() != TaskStatus.CANCELLED) {
            throw new ApiException(409, "only a failed or cancelled task can be re-run; this one is "
                    + old.status().wireName());
        }
        TaskMessage first = firstMessage(id);
        if (first == null) {
            throw new ApiException(409, "task " + id + " has no first message to run again");
        }
        TaskRequest.Builder b = TaskRequest.builder(old.agentId()).message(first).title(old.title()).workDir(old.workDir());
        old.metadata().forEach(b::metadata);
        b.metadata("rerun_of", id);
        Task task = manager.create(b.build());
        log.info("Task {} created over HTTP as a re-run of {}", task.id(), id);
        ex.setHeader("Location", "/api/tasks/" + enc(task.id()));
        HttpIo.sendJson(ex, 201, Json.task(task));
    }

    /** Reads the task's events up to its first {@code user_message}. */
    private TaskMessage firstMessage(String id) {
        java.util.concurrent.CompletableFuture<TaskMessage> found = new java.util.concurrent.CompletableFuture<>();
        manager.events(id, 0).subscribe(new java.util.concurrent.Flow.Subscriber<dev.agenttasks.TaskEvent>() {
            private java.util.concurrent.Flow.Subscription sub;

            @Override
            public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
                sub = s;
                s.request(8);
            }

            @Override
            @SuppressWarnings("unchecked")
            public void onNext(dev.agenttasks.TaskEvent e) {
                if (found.isDone() || !e.type().equals("user_message")) {
                    if (e.seq() >= 8) {
                        sub.cancel();
                        found.complete(null);
                    }
                    return;
                }
                Object text = e.data().get("text");
                Object content = e.data().get("content");
                found.complete(text instanceof String ? TaskMessage.text((String) text)
                        : content instanceof List ? TaskMessage.content((List<Map<String, Object>>) content) : null);
                sub.cancel();
            }

            @Override
            public void onError(Throwable t) {
                found.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
                found.complete(null);
            }
        });
        try {
            return found.get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "interrupted");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new ApiException(409, "task " + id + " has no readable first message");
        }
    }

    private void delete(Exchange ex, String id) throws IOException {
        HttpIo.drain(ex);
        if (!manager.delete(id)) {
            throw new ApiException(404, "no such task: " + id);
        }
        HttpIo.sendJson(ex, 200, Map.of("status", "deleted", "task_id", id));
    }

    private void cancel(Exchange ex, String id) throws IOException {
        HttpIo.readBody(ex, config.maxBodyBytes());
        if (!manager.cancel(id)) {
            Task t = find(id);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("error", "task " + id + " has already finished");
            body.put("status", t.status().wireName());
            HttpIo.sendJson(ex, 409, body);
            return;
        }
        HttpIo.sendJson(ex, 200, Map.of("status", "cancelled", "task_id", id));
    }

    private void message(Exchange ex, String id) throws IOException {
        ObjectNode body = jsonBody(ex);
        rejectUnknown(body, MESSAGE_FIELDS);
        TaskMessage message = message(body, true);
        SendResult result = manager.sendMessage(id, message);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("status", "sent");
        out.put("task_id", id);
        out.put("result", result.name().toLowerCase(Locale.ROOT));
        HttpIo.sendJson(ex, 200, out);
    }

    private void stream(Exchange ex, String id) {
        long after = resumePoint(ex);
        boolean named = !"false".equalsIgnoreCase(HttpIo.first(HttpIo.query(ex), "named_events"));
        find(id);
        if (stopping) {
            throw new ApiException(503, "the server is stopping");
        }
        if (!streams.tryAcquire(id)) {
            ex.setHeader("Retry-After", "5");
            throw new ApiException(429, "too many open streams (at most " + config.maxStreamsPerTask()
                    + " per task and " + config.maxStreamsTotal() + " in total)");
        }
        SseStream sse = new SseStream(id, config.heartbeatInterval(), named);
        openStreams.add(sse);
        try {
            log.debug("Task {}: stream opened after seq {}", id, after);
            sse.run(ex, manager.events(id, after), after);
        } finally {
            openStreams.remove(sse);
            streams.release(id);
        }
    }

    /** The seq to resume after: the {@code Last-Event-ID} header wins over the {@code after} parameter. */
    private static long resumePoint(Exchange ex) {
        String header = ex.header("Last-Event-ID");
        if (header != null && !header.isBlank()) {
            return nonNegative(header, "Last-Event-ID");
        }
        String param = HttpIo.first(HttpIo.query(ex), "after");
        return param == null || param.isBlank() ? 0 : nonNegative(param, "after");
    }

    private static long nonNegative(String value, String field) {
        try {
            long v = Long.parseLong(value.trim());
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw ApiException.badRequest(field, field + " must be a non-negative event seq: " + value);
    }

    private Task find(String id) {
        Optional<Task> t = manager.get(id);
        return t.orElseThrow(() -> new ApiException(404, "no such task: " + id));
    }

    private ObjectNode jsonBody(Exchange ex) throws IOException {
        if (!HttpIo.isJson(ex)) {
            throw new ApiException(415, "Content-Type", "the body must be application/json");
        }
        return Json.object(HttpIo.readBody(ex, config.maxBodyBytes()));
    }

    /** Reads {@code message} (text) or {@code content} (blocks); exactly one when required, at most one otherwise. */
    private static TaskMessage message(ObjectNode body, boolean required) {
        JsonNode text = body.get("message");
        JsonNode content = body.get("content");
        boolean hasText = text != null && !text.isNull();
        boolean hasContent = content != null && !content.isNull();
        if (hasText && hasContent) {
            throw ApiException.badRequest("message", "give message or content, not both");
        }
        if (hasText) {
            if (!text.isTextual()) {
                throw ApiException.badRequest("message", "message must be a string");
            }
            return TaskMessage.text(text.asText());
        }
        if (hasContent) {
            if (!content.isArray()) {
                throw ApiException.badRequest("content", "content must be an array of content blocks");
            }
            for (JsonNode block : content) {
                if (!block.isObject()) {
                    throw ApiException.badRequest("content", "each content block must be an object");
                }
            }
            return TaskMessage.content(Json.toListOfMaps(content));
        }
        if (required) {
            throw ApiException.badRequest("message", "message or content is required");
        }
        return null;
    }

    private static void rejectUnknown(ObjectNode body, Set<String> known) {
        Iterator<String> names = body.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                throw ApiException.badRequest(name, "unknown field: " + name);
            }
        }
    }

    private static String optionalText(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw ApiException.badRequest(field, field + " must be a string");
        }
        return v.asText();
    }

    /**
     * Accepts a folder only if it is an absolute path to an existing directory inside one of the configured
     * work roots, after symbolic links are resolved (so neither {@code ..} nor a link leads out of them).
     *
     * @return the directory's real path
     * @throws ApiException 400 naming the field otherwise, or when no work root is configured
     */
    private String checkedDir(String field, String value) {
        if (config.workRoots().isEmpty()) {
            throw ApiException.badRequest(field, field + " is not accepted: this host has no --work-root configured");
        }
        Path path;
        try {
            path = Path.of(value);
        } catch (InvalidPathException e) {
            throw ApiException.badRequest(field, field + " is not a valid path: " + value);
        }
        if (!path.isAbsolute()) {
            throw ApiException.badRequest(field, field + " must be an absolute path: " + value);
        }
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            throw ApiException.badRequest(field, field + " does not exist: " + value);
        }
        if (!Files.isDirectory(real)) {
            throw ApiException.badRequest(field, field + " is not a directory: " + value);
        }
        for (Path root : config.workRoots()) {
            try {
                if (real.startsWith(root.toRealPath())) {
                    return real.toString();
                }
            } catch (IOException e) {
                log.warn("Work root {} is not usable: {}", root, e.toString());
            }
        }
        throw ApiException.badRequest(field, field + " is not inside a work root of this host: " + value);
    }

    private static List<String> stringList(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isArray()) {
            throw ApiException.badRequest(field, field + " must be an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : v) {
            if (!item.isTextual()) {
                throw ApiException.badRequest(field, field + " must be an array of strings");
            }
            out.add(item.asText());
        }
        return out;
    }

    // ---------------------------------------------------------------- static files

    private void staticFile(Exchange ex, String rawPath) throws IOException {
        String method = ex.method().toUpperCase(Locale.ROOT);
        allow(ex, method, "GET", "HEAD");
        String name = rawPath.equals("/") || rawPath.equals("/tasks") ? "index.html" : rawPath.substring(1);
        if (!STATIC_NAME.matcher(name).matches()) {
            throw new ApiException(404, "not found: " + rawPath);
        }
        byte[] bytes;
        try (InputStream in = TasksHttpServer.class.getResourceAsStream("/web/" + name)) {
            if (in == null) {
                throw new ApiException(404, "not found: " + rawPath);
            }
            bytes = in.readAllBytes();
        }
        String type;
        switch (name.substring(name.lastIndexOf('.') + 1)) {
            case "html":
                type = "text/html; charset=utf-8";
                ex.setHeader("Content-Security-Policy", CSP);
                break;
            case "js":
                type = "text/javascript; charset=utf-8";
                break;
            case "css":
                type = "text/css; charset=utf-8";
                break;
            case "svg":
                type = "image/svg+xml";
                break;
            case "png":
                type = "image/png";
                break;
            default:
                type = "image/x-icon";
        }
        ex.setHeader("Cache-Control", "no-cache");
        ex.send(200, type, bytes, !method.equals("HEAD"));
    }

    // ---------------------------------------------------------------- helpers

    private static List<String> segments(String rest) {
        List<String> out = new ArrayList<>();
        for (String s : rest.split("/")) {
            if (!s.isEmpty()) {
                out.add(HttpIo.decode(s));
            }
        }
        return out;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
