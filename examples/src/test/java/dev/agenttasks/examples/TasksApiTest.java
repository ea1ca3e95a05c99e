package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskLimits;
import dev.agenttasks.testkit.RecordingSubscriber;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Every REST route and every error status of the host, against an in-memory manager. */
class TasksApiTest {

    static HostFixture host;
    static Path workRoot;

    @BeforeAll
    static void start(@TempDir Path root) throws Exception {
        workRoot = root.toRealPath();
        Files.createDirectories(workRoot.resolve("w"));
        host = HostFixture.start(b -> b.workRoot(workRoot));
    }

    @AfterAll
    static void stop() {
        host.close();
    }

    @Test
    void createReturnsTheTaskInTheSeedsWireFormat() {
        HttpResponse<String> r = host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"hello there\","
                + "\"enable_skills\":true,\"enable_mcp\":false,\"add_dirs\":[" + Json.string(workRoot.resolve("w").toString()) + "],\"metadata\":{\"k\":\"v\"}}");
        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode t = HostFixture.json(r.body());
        assertThat(r.headers().firstValue("Location")).contains("/api/tasks/" + t.get("id").asText());
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        List<String> fields = new ArrayList<>();
        t.fieldNames().forEachRemaining(fields::add);
        assertThat(fields).containsExactly("id", "agent_id", "session_id", "status", "title", "model", "created_at",
                "started_at", "completed_at", "error", "work_dir", "metadata");
        assertThat(t.get("agent_id").asText()).isEqualTo("demo");
        assertThat(t.get("title").asText()).isEqualTo("hello there");
        assertThat(t.get("model").asText()).isEqualTo("demo-1");
        assertThat(t.get("work_dir").asText()).isEqualTo(workRoot.resolve("w").toString());
        assertThat(t.get("metadata").get("k").asText()).isEqualTo("v");
        assertThat(t.get("status").asText()).isIn("pending", "running");

        String id = t.get("id").asText();
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("completed"));
        JsonNode done = HostFixture.json(host.get("/api/tasks/" + id).body());
        assertThat(done.get("session_id").asText()).isEqualTo("demo-" + id);
        assertThat(done.get("started_at").isTextual()).isTrue();
        assertThat(done.get("completed_at").isTextual()).isTrue();
        assertThat(done.get("error").isNull()).isTrue();
    }

    @Test
    void aFailingAgentFailsTheTaskWithItsError() {
        String id = host.createDemo("please fail now");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("failed"));
        JsonNode t = HostFixture.json(host.get("/api/tasks/" + id).body());
        assertThat(t.get("error").asText()).contains("failed on purpose");
        assertThat(t.get("completed_at").isTextual()).isTrue();
    }

    @Test
    void createAcceptsContentBlocks() {
        HttpResponse<String> r = host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"content\":"
                + "[{\"type\":\"image\",\"source\":\"x\"},{\"type\":\"text\",\"text\":\"from blocks\"}]}");
        assertThat(r.statusCode()).isEqualTo(201);
        assertThat(HostFixture.json(r.body()).get("title").asText()).isEqualTo("from blocks");
    }

    @Test
    void listFiltersByStatusAgentAndTitleAndPagesWithTheNextCursorHeader() {
        String tag = "pagetag" + System.nanoTime();
        Set<String> created = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            created.add(host.createDemo(tag + " item " + i));
        }
        String waiting = host.createDemo(tag + " please ask");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(waiting).equals("waiting_for_input"));
        for (String id : created) {
            await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("completed"));
        }

        HttpResponse<String> page1 = host.get("/api/tasks?q=" + tag + "&limit=4");
        assertThat(page1.statusCode()).isEqualTo(200);
        JsonNode arr1 = HostFixture.json(page1.body());
        assertThat(arr1.isArray()).isTrue();
        assertThat(arr1).hasSize(4);
        String cursor = page1.headers().firstValue("X-Next-Cursor").orElseThrow();
        HttpResponse<String> page2 = host.get("/api/tasks?q=" + tag + "&limit=4&cursor="
                + java.net.URLEncoder.encode(cursor, java.nio.charset.StandardCharsets.UTF_8));
        JsonNode arr2 = HostFixture.json(page2.body());
        assertThat(arr2).hasSize(2);
        assertThat(page2.headers().firstValue("X-Next-Cursor")).isEmpty();
        Set<String> ids = new HashSet<>();
        arr1.forEach(t -> ids.add(t.get("id").asText()));
        arr2.forEach(t -> ids.add(t.get("id").asText()));
        assertThat(ids).hasSize(6).containsAll(created).contains(waiting);
        // newest first
        assertThat(arr1.get(0).get("id").asText()).isEqualTo(waiting);

        JsonNode onlyWaiting = HostFixture.json(host.get("/api/tasks?q=" + tag + "&status=waiting_for_input").body());
        assertThat(onlyWaiting).hasSize(1);
        assertThat(onlyWaiting.get(0).get("id").asText()).isEqualTo(waiting);
        JsonNode two = HostFixture.json(host.get("/api/tasks?q=" + tag + "&status=completed,waiting_for_input").body());
        assertThat(two).hasSize(6);
        JsonNode all = HostFixture.json(host.get("/api/tasks?q=" + tag + "&status=all&agent_id=demo").body());
        assertThat(all).hasSize(6);
        JsonNode otherAgent = HostFixture.json(host.get("/api/tasks?q=" + tag + "&agent_id=cli-echo").body());
        assertThat(otherAgent).isEmpty();
        host.postJson("/api/tasks/" + waiting + "/cancel", "");
    }

    @Test
    void runningCountCountsRunningAndWaitingTasks() {
        try (HostFixture own = HostFixture.start()) {
            assertThat(HostFixture.json(own.get("/api/tasks/running/count").body()).get("count").asInt()).isZero();
            String id = own.createDemo("count me, ask first");
            await().atMost(Duration.ofSeconds(20)).until(() -> own.status(id).equals("waiting_for_input"));
            HttpResponse<String> r = own.get("/api/tasks/running/count");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("{\"count\":1}");
            assertThat(own.postJson("/api/tasks/" + id + "/cancel", "").statusCode()).isEqualTo(200);
            assertThat(HostFixture.json(own.get("/api/tasks/running/count").body()).get("count").asInt()).isZero();
        }
    }

    @Test
    void messageAnswersAWaitingTaskAndIsRefusedOnceItFinished() {
        String id = host.createDemo("please ask me");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("waiting_for_input"));
        HttpResponse<String> sent = host.postJson("/api/tasks/" + id + "/message", "{\"message\":\"short summary\"}");
        assertThat(sent.statusCode()).isEqualTo(200);
        JsonNode body = HostFixture.json(sent.body());
        assertThat(body.get("status").asText()).isEqualTo("sent");
        assertThat(body.get("result").asText()).isEqualTo("started_turn");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("completed"));

        HttpResponse<String> late = host.postJson("/api/tasks/" + id + "/message", "{\"message\":\"too late\"}");
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(HostFixture.json(late.body()).get("error").asText()).contains("does not accept messages");
    }

    @Test
    void theListShowsTheTimeSpentRunningWithoutTheWaitForTheUser() {
        String tag = "runtime" + System.nanoTime();
        String id = host.createDemo(tag + " please ask");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("waiting_for_input"));
        long whileWaiting = runningMs(tag, id);
        assertThat(whileWaiting).isNotNegative();
        assertThat(runningMs(tag, id)).as("a waiting task's running time does not grow").isEqualTo(whileWaiting);

        host.postJson("/api/tasks/" + id + "/message", "{\"message\":\"short summary\"}");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("completed"));
        RecordingSubscriber<TaskEvent> sub = RecordingSubscriber.unbounded();
        host.manager.events(id).subscribe(sub);
        long expected = 0;
        Instant since = null;
        for (TaskEvent e : sub.awaitCompletion(Duration.ofSeconds(20))) {
            if (e.type().equals(TaskEvent.STATUS)) {
                if (since != null) {
                    expected += e.timestamp().toEpochMilli() - since.toEpochMilli();
                }
                since = "running".equals(e.data().get("status")) ? e.timestamp() : null;
            }
        }
        long done = runningMs(tag, id);
        assertThat(done).isEqualTo(expected).isGreaterThanOrEqualTo(whileWaiting);
        JsonNode one = HostFixture.json(host.get("/api/tasks/" + id).body());
        assertThat(one.get("running_ms").asLong()).isEqualTo(done);
        long wall = Instant.parse(one.get("completed_at").asText()).toEpochMilli()
                - Instant.parse(one.get("started_at").asText()).toEpochMilli();
        assertThat(done).isLessThanOrEqualTo(wall);
    }

    private static long runningMs(String tag, String id) {
        for (JsonNode row : HostFixture.json(host.get("/api/tasks?q=" + tag).body())) {
            if (row.get("id").asText().equals(id)) {
                assertThat(row.get("running_ms").isNumber()).as("running_ms of %s", row).isTrue();
                return row.get("running_ms").asLong();
            }
        }
        throw new AssertionError("task " + id + " is not listed");
    }

    private HttpResponse<String> postWithKey(String path, String json, String key) {
        return host.send(host.request(path).header("Content-Type", "application/json").header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    @Test
    void aRetriedCreateWithAnIdempotencyKeyGivesTheSameTaskAndAnotherRequestWithItIs422() {
        String key = "\"create-" + System.nanoTime() + "\"";
        String body = "{\"agent_id\":\"demo\",\"message\":\"keyed create\"}";
        HttpResponse<String> first = postWithKey("/api/tasks", body, key);
        HttpResponse<String> again = postWithKey("/api/tasks", body, key);
        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(again.statusCode()).isEqualTo(201);
        String id = HostFixture.json(first.body()).get("id").asText();
        assertThat(HostFixture.json(again.body()).get("id").asText()).isEqualTo(id);
        assertError(postWithKey("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"another\"}", key), 422,
                "Idempotency-Key");
        assertError(postWithKey("/api/tasks", body, "  "), 400, "Idempotency-Key");
        host.postJson("/api/tasks/" + id + "/cancel", "");
    }

    @Test
    void aMessageTakesAStrategyAndAnIdempotencyKey() {
        String id = host.createDemo("a long one with a strategy");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("running"));
        assertError(host.postJson("/api/tasks/" + id + "/message", "{\"message\":\"x\",\"strategy\":\"later\"}"), 400,
                "strategy");
        HttpResponse<String> refused = host.postJson("/api/tasks/" + id + "/message",
                "{\"message\":\"not now\",\"strategy\":\"reject\"}");
        assertThat(refused.statusCode()).isEqualTo(409);
        String key = "msg-" + System.nanoTime();
        HttpResponse<String> queued = postWithKey("/api/tasks/" + id + "/message", "{\"message\":\"next\"}", key);
        HttpResponse<String> retried = postWithKey("/api/tasks/" + id + "/message", "{\"message\":\"next\"}", key);
        assertThat(queued.statusCode()).isEqualTo(200);
        assertThat(retried.statusCode()).isEqualTo(200);
        assertThat(HostFixture.json(retried.body()).get("result").asText())
                .isEqualTo(HostFixture.json(queued.body()).get("result").asText());
        host.postJson("/api/tasks/" + id + "/cancel", "");
    }

    @Test
    void messageNeedsMessageOrContent() {
        String id = host.createDemo("ask me");
        assertError(host.postJson("/api/tasks/" + id + "/message", "{}"), 400, "message");
        assertError(host.postJson("/api/tasks/" + id + "/message", "{\"message\":\"a\",\"content\":[]}"), 400, "message");
        assertError(host.postJson("/api/tasks/" + id + "/message", "{\"message\":5}"), 400, "message");
        assertError(host.postJson("/api/tasks/" + id + "/message", "{\"content\":\"x\"}"), 400, "content");
        assertError(host.postJson("/api/tasks/" + id + "/message", "{\"text\":\"x\"}"), 400, "text");
        assertError(host.postJson("/api/tasks/task_unknown/message", "{\"message\":\"x\"}"), 404, null);
        host.postJson("/api/tasks/" + id + "/cancel", "");
    }

    @Test
    void cancelStopsARunningTaskAndConflictsOnAFinishedOne() {
        String id = host.createDemo("a long one");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("running"));
        HttpResponse<String> r = host.postJson("/api/tasks/" + id + "/cancel", "");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(HostFixture.json(r.body()).get("status").asText()).isEqualTo("cancelled");
        assertThat(host.status(id)).isEqualTo("cancelled");
        HttpResponse<String> again = host.send(host.request("/api/tasks/" + id + "/cancel")
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(HostFixture.json(again.body()).get("status").asText()).isEqualTo("cancelled");
        assertError(host.postJson("/api/tasks/task_nope/cancel", ""), 404, null);
    }

    @Test
    void deleteRemovesTheTask() {
        String id = host.createDemo("delete me, ask first");
        HttpResponse<String> r = host.delete("/api/tasks/" + id);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(HostFixture.json(r.body()).get("status").asText()).isEqualTo("deleted");
        assertError(host.get("/api/tasks/" + id), 404, null);
        assertError(host.delete("/api/tasks/" + id), 404, null);
    }

    @Test
    void unknownIdsAndRoutesAre404() {
        assertError(host.get("/api/tasks/task_doesnotexist"), 404, null);
        assertError(host.get("/api/tasks/task_doesnotexist/stream"), 404, null);
        assertError(host.get("/api/nothing"), 404, null);
        assertError(host.get("/api/tasks/a/b/c/d"), 404, null);
        assertThat(host.get("/nothing.html").statusCode()).isEqualTo(404);
        // an encoded '/' in a path segment is ambiguous: Jetty refuses it before routing, still as JSON
        HttpResponse<String> ambiguous = host.get("/..%2f..%2fetc%2fpasswd");
        assertThat(ambiguous.statusCode()).isEqualTo(400);
        assertThat(ambiguous.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        assertThat(HostFixture.json(ambiguous.body()).get("error").asText()).isNotBlank();
    }

    @Test
    void wrongMethodsAre405WithAllow() {
        HttpResponse<String> r = host.send(host.request("/api/tasks/running/count").DELETE().build());
        assertError(r, 405, null);
        assertThat(r.headers().firstValue("Allow")).contains("GET");
        HttpResponse<String> put = host.send(host.request("/api/tasks").PUT(HttpRequest.BodyPublishers.ofString("{}"))
                .header("Content-Type", "application/json").build());
        assertError(put, 405, null);
        assertThat(put.headers().firstValue("Allow")).contains("GET, POST");
        assertError(host.get("/api/tasks/x/cancel"), 405, null);
        assertError(host.send(host.request("/").POST(HttpRequest.BodyPublishers.noBody()).build()), 405, null);
    }

    @Test
    void badInputIs400WithTheField() {
        assertError(host.postJson("/api/tasks", "{\"message\":\"no agent\"}"), 400, "agent_id");
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"nobody\",\"message\":\"x\"}"), 400, "agent_id");
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"x\""), 400, "body");
        assertError(host.postJson("/api/tasks", "[1,2]"), 400, "body");
        assertError(host.postJson("/api/tasks", "{} {}"), 400, "body");
        assertError(host.postJson("/api/tasks", ""), 400, "body");
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"x\",\"agentId\":\"demo\"}"), 400, "agentId");
        assertError(host.postJson("/api/tasks", "{\"agent_id\":7}"), 400, "agent_id");
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"enable_mcp\":\"yes\"}"), 400, "enable_mcp");
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"add_dirs\":[1]}"), 400, "add_dirs");
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"metadata\":{\"a\":1}}"), 400, "metadata");
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"timeout_seconds\":-1}"), 400, "timeout_seconds");
        assertError(host.get("/api/tasks?status=sleeping"), 400, "status");
        assertError(host.get("/api/tasks?limit=abc"), 400, "limit");
        assertError(host.get("/api/tasks?limit=0"), 400, "limit");
        assertError(host.get("/api/tasks?cursor=not-a-cursor"), 400, "cursor");
    }

    @Test
    void countsGiveEveryStatusAndTheTotal() {
        String id = host.createDemo("count me, please fail");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("failed"));
        JsonNode c = HostFixture.json(host.get("/api/counts").body());
        long sum = 0;
        for (String s : List.of("pending", "running", "waiting_for_input", "completed", "failed", "cancelled")) {
            assertThat(c.has(s)).as(s).isTrue();
            sum += c.get(s).asLong();
        }
        assertThat(c.get("failed").asLong()).isPositive();
        assertThat(c.get("total").asLong()).isEqualTo(sum).isEqualTo(host.manager.countByStatus().values().stream()
                .mapToLong(Long::longValue).sum());
    }

    @Test
    void aFailedTaskIsReRunAsANewTaskWithTheSameRequest() {
        HttpResponse<String> created = host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"rerun me, fail\","
                + "\"title\":\"The rerun\",\"metadata\":{\"k\":\"v\"}}");
        String id = HostFixture.json(created.body()).get("id").asText();
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("failed"));
        HttpResponse<String> again = host.postJson("/api/tasks/" + id + "/rerun", "");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
        JsonNode t = HostFixture.json(again.body());
        assertThat(t.get("id").asText()).isNotEqualTo(id);
        assertThat(t.get("title").asText()).isEqualTo("The rerun");
        assertThat(t.get("metadata").get("k").asText()).isEqualTo("v");
        assertThat(t.get("metadata").get("rerun_of").asText()).isEqualTo(id);
        String newId = t.get("id").asText();
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(newId).equals("failed"));
        assertThat(host.get("/api/tasks/" + newId + "/stream").body()).contains("rerun me, fail");

        String done = host.createDemo("finishes fine");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(done).equals("completed"));
        assertError(host.postJson("/api/tasks/" + done + "/rerun", ""), 409, null);
        assertError(host.postJson("/api/tasks/task_nope/rerun", ""), 404, null);
    }

    @Test
    void duplicateKeysAreRejectedNotLastOneWins() {
        int before = host.manager.list(dev.agenttasks.TaskQuery.all()).tasks().size();
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"a\",\"agent_id\":\"other\"}"),
                400, "agent_id");
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"a\",\"metadata\":{\"k\":\"1\",\"k\":\"2\"}}"),
                400, "k");
        assertThat(host.manager.list(dev.agenttasks.TaskQuery.all()).tasks()).hasSize(before);
    }

    @Test
    void titleLimitsCountCodePointsNotUtf16Units() {
        String emoji = "\uD83D\uDE00"; // one code point, two chars
        int max = dev.agenttasks.TaskLimits.DEFAULT_MAX_TITLE_LENGTH;
        HttpResponse<String> ok = host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"t\",\"title\":"
                + Json.string(emoji.repeat(max)) + "}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
        assertThat(HostFixture.json(ok.body()).get("title").asText()).isEqualTo(emoji.repeat(max));
        assertError(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"t\",\"title\":"
                + Json.string(emoji.repeat(max + 1)) + "}"), 413, "title");
    }

    @Test
    void nonJsonBodiesAre415() {
        HttpResponse<String> r = host.send(host.request("/api/tasks").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"demo\",\"message\":\"x\"}")).build());
        assertError(r, 415, "Content-Type");
        HttpResponse<String> none = host.send(host.request("/api/tasks")
                .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"demo\"}")).build());
        assertError(none, 415, "Content-Type");
        HttpResponse<String> form = host.send(host.request("/api/tasks/x/message")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("message=x")).build());
        assertError(form, 415, "Content-Type");
        HttpResponse<String> withCharset = host.send(host.request("/api/tasks")
                .header("Content-Type", "application/json; charset=utf-8")
                .POST(HttpRequest.BodyPublishers.ofString("{\"agent_id\":\"demo\",\"message\":\"charset ok\"}")).build());
        assertThat(withCharset.statusCode()).isEqualTo(201);
    }

    @Test
    void oversizeBodiesAre413() {
        try (HostFixture small = HostFixture.start(b -> b.maxBodyBytes(1024))) {
            String big = "{\"agent_id\":\"demo\",\"message\":\"" + "x".repeat(4000) + "\"}";
            assertError(small.postJson("/api/tasks", big), 413, "body");
            String fits = "{\"agent_id\":\"demo\",\"message\":\"" + "x".repeat(500) + "\"}";
            assertThat(small.postJson("/api/tasks", fits).statusCode()).isEqualTo(201);
        }
        try (HostFixture limited = HostFixture.start(b -> { }, TaskLimits.defaults().withMaxMessageBytes(100))) {
            String over = "{\"agent_id\":\"demo\",\"message\":\"" + "y".repeat(300) + "\"}";
            HttpResponse<String> r = limited.postJson("/api/tasks", over);
            assertError(r, 413, "message");
        }
    }

    @Test
    void closedManagerIs503() {
        HostFixture closing = HostFixture.start();
        try {
            closing.manager.close();
            assertError(closing.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"x\"}"), 503, null);
        } finally {
            closing.close();
        }
    }

    @Test
    void agentsListsTheCatalog() {
        JsonNode agents = HostFixture.json(host.get("/api/agents").body());
        assertThat(agents).hasSize(2);
        assertThat(agents.get(0).get("id").asText()).isEqualTo("demo");
        assertThat(agents.get(1).get("runner").asText()).isEqualTo("process");
    }

    @Test
    void pageIsServedWithAContentSecurityPolicy() {
        HttpResponse<String> r = host.get("/");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("id=\"tasks-body\"").contains("/app.js");
        assertThat(r.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v ->
                assertThat(v).contains("default-src 'self'").contains("frame-ancestors 'none'"));
        assertThat(r.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
        assertThat(host.get("/app.js").headers().firstValue("Content-Type"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("text/javascript"));
        assertThat(host.get("/i18n.js").body()).contains("任务管理");
    }

    static void assertError(HttpResponse<String> r, int status, String field) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        JsonNode body = HostFixture.json(r.body());
        assertThat(body.get("error").asText()).isNotBlank();
        if (field == null) {
            assertThat(body.has("field")).isFalse();
        } else {
            assertThat(body.get("field").asText()).isEqualTo(field);
        }
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }
}
