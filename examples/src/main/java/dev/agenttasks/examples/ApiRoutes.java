package dev.agenttasks.examples;

import dev.agenttasks.SendResult;
import dev.agenttasks.Task;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskPage;
import dev.agenttasks.TaskQuery;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code /api} routes of {@link TasksHttpServer} (listed there): checks the token, picks the route and
 * maps it onto the {@link TaskManager}. Failures are thrown as exceptions the server turns into JSON errors.
 */
final class ApiRoutes {

    private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);

    private final TaskManager manager;
    private final AgentCatalog catalog;
    private final HostConfig config;
    private final RequestGuard guard;
    private final RequestBodies bodies;
    private final RunningTimes runningTimes;
    private final StreamLimiter streams;
    private final Set<SseStream> openStreams = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    ApiRoutes(TaskManager manager, AgentCatalog catalog, HostConfig config, RequestGuard guard,
              RunningTimes runningTimes) {
        this.manager = manager;
        this.catalog = catalog;
        this.config = config;
        this.guard = guard;
        this.bodies = new RequestBodies(config);
        this.runningTimes = runningTimes;
        this.streams = new StreamLimiter(config.maxStreamsPerTask(), config.maxStreamsTotal());
    }

    /** @return the number of event streams open now */
    int openStreams() {
        return streams.open();
    }

    /** Refuses new streams and ends the open ones. */
    void stopStreams() {
        stopping = true;
        for (SseStream s : openStreams) {
            s.stop();
        }
    }

    /**
     * Answers one API request.
     *
     * @param ex   the exchange
     * @param rest the raw path after {@code /api}
     */
    void handle(Exchange ex, String rest) throws IOException {
        List<String> seg = segments(rest);
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
            streamSession(ex);
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
                HttpIo.sendJson(ex, 200, withRunningTime(find(seg.get(1)), runningTimes.budget()));
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

    /** Throws 405 (with an {@code Allow} header) unless the method is one of {@code allowed}. */
    static void allow(Exchange ex, String method, String... allowed) {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        ex.setHeader("Allow", String.join(", ", allowed));
        throw new ApiException(405, "method " + method + " not allowed; allowed: " + String.join(", ", allowed));
    }

    private void streamSession(Exchange ex) throws IOException {
        HttpIo.drain(ex);
        String cookie = guard.issueStreamCookie();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("token_required", cookie != null);
        if (cookie != null) {
            ex.addHeader("Set-Cookie", cookie);
            out.put("expires_in", RequestGuard.STREAM_SESSION_TTL.toSeconds());
        }
        HttpIo.sendJson(ex, 200, out);
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
        RunningTimes.Budget budget = runningTimes.budget();
        List<Map<String, Object>> rows = new ArrayList<>(page.tasks().size());
        for (Task t : page.tasks()) {
            rows.add(withRunningTime(t, budget));
        }
        HttpIo.sendJson(ex, 200, rows);
    }

    /** The task's wire object plus {@code running_ms}: time spent running, without waits ({@code null} if not known). */
    private Map<String, Object> withRunningTime(Task t, RunningTimes.Budget budget) {
        Map<String, Object> m = Json.task(t);
        m.put("running_ms", runningTimes.runningMillis(t, budget));
        return m;
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
        Task task = manager.create(bodies.createRequest(ex));
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
        TaskMessage first = FirstMessage.of(manager, id);
        TaskRequest.Builder b = TaskRequest.builder(old.agentId()).message(first).title(old.title()).workDir(old.workDir());
        old.metadata().forEach(b::metadata);
        b.metadata("rerun_of", id);
        Task task = manager.create(b.build());
        log.info("Task {} created over HTTP as a re-run of {}", task.id(), id);
        ex.setHeader("Location", "/api/tasks/" + enc(task.id()));
        HttpIo.sendJson(ex, 201, Json.task(task));
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
        RequestBodies.FollowUp followUp = bodies.followUpWithOptions(ex);
        SendResult result = manager.sendMessage(id, followUp.message(), followUp.options());
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
