package dev.agenttasks.examples;

import dev.agenttasks.IdempotencyKeyMismatchException;
import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.ManagerClosedException;
import dev.agenttasks.NoSuchTaskException;
import dev.agenttasks.PayloadTooLargeException;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskNotAcceptingMessagesException;
import dev.agenttasks.spi.TaskStore;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;

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
 *       is in the {@code X-Next-Cursor} response header; each task has {@code running_ms}, the time it spent
 *       running (not queued, not waiting for the user; {@code null} when not known yet, see
 *       {@link RunningTimes});</li>
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

    private final HostConfig config;
    private final Server server;
    private final ServerConnector connector;
    private final QueuedThreadPool threads;
    private final RequestGuard guard;
    private final ApiRoutes routes;
    private volatile boolean stopping;

    /**
     * Binds the server (not yet serving), without the store: tasks are listed without their running
     * time ({@code running_ms} is {@code null}).
     *
     * @param manager the task manager to expose
     * @param catalog the agents, for {@code GET /api/agents}
     * @param config  the settings
     * @throws IOException if the address can not be bound
     * @see #TasksHttpServer(TaskManager, AgentCatalog, HostConfig, TaskStore) the same with running times
     */
    public TasksHttpServer(TaskManager manager, AgentCatalog catalog, HostConfig config) throws IOException {
        this(manager, catalog, config, null);
    }

    /**
     * Binds the server (not yet serving).
     *
     * @param manager the task manager to expose
     * @param catalog the agents, for {@code GET /api/agents}
     * @param config  the settings
     * @param store   the manager's store, read (never written) for the tasks' running times; {@code null}
     *                leaves them out
     * @throws IOException if the address can not be bound
     */
    public TasksHttpServer(TaskManager manager, AgentCatalog catalog, HostConfig config, TaskStore store)
            throws IOException {
        this.config = config;
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
        server.setErrorHandler(new JsonErrorHandler());
        server.setStopTimeout(1000);
        connector.open(); // binds now, so the port is known and a busy port fails here
        this.guard = new RequestGuard(config.bindAddress(), port(), config.allowedHosts(), config.token());
        this.routes = new ApiRoutes(manager, catalog, config, guard, new RunningTimes(store == null ? null : store::events));
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
        return routes.openStreams();
    }

    /** Ends the open event streams and stops the server. Does not close the manager. Idempotent. */
    @Override
    public void close() {
        if (stopping) {
            return;
        }
        stopping = true;
        routes.stopStreams();
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("Stopping the HTTP server failed", e);
        }
    }

    private void handle(Exchange ex) {
        try {
            HttpIo.securityHeaders(ex);
            guard.checkOrigin(ex);
            String path = ex.rawPath();
            if (path.equals("/api") || path.startsWith("/api/")) {
                routes.handle(ex, path.substring(4));
            } else {
                StaticFiles.serve(ex, path);
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
            status = 409; // finished, or busy with the reject strategy (TaskBusyException)
        } else if (e instanceof IdempotencyKeyMismatchException) {
            status = 422; // the key was used for a different request
            field = "Idempotency-Key";
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
            // an error answered before the body was read (a 401 on a POST, say) leaves the body on the
            // connection: close it, so the client does not send its next request on a connection Jetty ends
            if (status == 413 || status >= 500 || ex.hasUnreadBody()) {
                ex.setHeader("Connection", "close");
            }
            HttpIo.sendError(ex, status, field, message);
        } catch (IOException io) {
            log.debug("Could not send error {}: {}", status, io.toString());
        }
    }
}
