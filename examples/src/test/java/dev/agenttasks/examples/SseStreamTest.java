package dev.agenttasks.examples;

import dev.agenttasks.TaskEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The SSE route: framing, resume without gap or duplicate, heartbeats, caps, disconnects, load. */
class SseStreamTest {

    static HostFixture host;

    @BeforeAll
    static void start() {
        host = HostFixture.start();
    }

    @AfterAll
    static void stop() {
        host.close();
    }

    @Test
    void aFinishedTaskStreamsItsWholeLogThenTheResponseEnds() {
        String id = host.createDemo("hello stream");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("completed"));
        HttpResponse<String> r = host.get("/api/tasks/" + id + "/stream");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
        assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
        List<SseParser.Event> events = SseParser.parseAll(r.body());
        assertContiguous(events, 1);
        for (SseParser.Event e : events) {
            assertThat(e.event()).isEqualTo(e.type());
            assertThat(HostFixture.json(e.data()).get("seq").asLong()).isEqualTo(e.seq());
            assertThat(HostFixture.json(e.data()).get("task_id").asText()).isEqualTo(id);
        }
        assertThat(HostFixture.json(events.get(0).data()).get("data").get("status").asText()).isEqualTo("pending");
        SseParser.Event last = events.get(events.size() - 1);
        assertThat(last.event()).isEqualTo("status");
        assertThat(HostFixture.json(last.data()).get("data").get("status").asText()).isEqualTo("completed");
        assertThat(events).extracting(SseParser.Event::event).contains("text_delta", "result", "thinking");
        assertThat(r.body()).startsWith("retry: 2000\n");
    }

    @Test
    void disconnectMidStreamThenResumeWithLastEventIdHasNoGapAndNoDuplicate() throws Exception {
        String id = host.createDemo("a long answer please");
        List<SseParser.Event> seen = new ArrayList<>();
        HttpResponse<InputStream> first = host.http.send(host.request("/api/tasks/" + id + "/stream").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = first.body()) {
            SseParser p = new SseParser(in);
            while (seen.size() < 15) {
                seen.add(p.next());
            }
        }
        assertThat(host.status(id)).isEqualTo("running");
        long lastSeen = seen.get(seen.size() - 1).seq();

        HttpResponse<String> resumed = host.send(host.request("/api/tasks/" + id + "/stream")
                .header("Last-Event-ID", Long.toString(lastSeen)).GET().build());
        List<SseParser.Event> rest = SseParser.parseAll(resumed.body());
        assertThat(rest.get(0).seq()).isEqualTo(lastSeen + 1);
        List<SseParser.Event> all = new ArrayList<>(seen);
        all.addAll(rest);
        assertContiguous(all, 1);
        assertThat(all.size()).isGreaterThan(500);
        assertThat(HostFixture.json(all.get(all.size() - 1).data()).get("data").get("status").asText()).isEqualTo("completed");
    }

    @Test
    void resumeAfterTheTaskFinishedReturnsExactlyTheRest() {
        String id = host.createDemo("finish first");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("completed"));
        List<SseParser.Event> all = SseParser.parseAll(host.get("/api/tasks/" + id + "/stream").body());
        long lastSeq = all.get(all.size() - 1).seq();

        List<SseParser.Event> afterParam = SseParser.parseAll(host.get("/api/tasks/" + id + "/stream?after=3").body());
        assertThat(afterParam).extracting(SseParser.Event::seq)
                .containsExactlyElementsOf(LongStream.rangeClosed(4, lastSeq).boxed().collect(Collectors.toList()));

        HttpResponse<String> header = host.send(host.request("/api/tasks/" + id + "/stream?after=1")
                .header("Last-Event-ID", Long.toString(lastSeq - 2)).GET().build());
        assertThat(SseParser.parseAll(header.body())).extracting(SseParser.Event::seq)
                .containsExactly(lastSeq - 1, lastSeq);

        HttpResponse<String> atEnd = host.get("/api/tasks/" + id + "/stream?after=" + lastSeq);
        assertThat(atEnd.statusCode()).isEqualTo(200);
        assertThat(SseParser.parseAll(atEnd.body())).isEmpty();
    }

    @Test
    void badResumePointsAre400() {
        String id = host.createDemo("bad resume, ask");
        TasksApiTest.assertError(host.get("/api/tasks/" + id + "/stream?after=abc"), 400, "after");
        TasksApiTest.assertError(host.get("/api/tasks/" + id + "/stream?after=-1"), 400, "after");
        TasksApiTest.assertError(host.send(host.request("/api/tasks/" + id + "/stream")
                .header("Last-Event-ID", "abc").GET().build()), 400, "Last-Event-ID");
        TasksApiTest.assertError(host.get("/api/tasks/task_missing/stream"), 404, null);
        host.postJson("/api/tasks/" + id + "/cancel", "");
    }

    @Test
    void unnamedModePutsEveryEventOnTheDefaultMessageType() {
        String id = host.createDemo("unnamed");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("completed"));
        List<SseParser.Event> events = SseParser.parseAll(host.get("/api/tasks/" + id + "/stream?named_events=false").body());
        assertThat(events).isNotEmpty().allSatisfy(e -> assertThat(e.event()).isEqualTo("message"));
        assertThat(events.get(events.size() - 1).type()).isEqualTo("status");
    }

    @Test
    void aClientThatLeavesFreesItsStreamAndItsSubscriptionAtOnce() throws Exception {
        try (HostFixture own = HostFixture.start(b -> b.heartbeatInterval(Duration.ofMillis(100)))) {
            String id = own.createDemo("wait for me, ask");
            await().atMost(Duration.ofSeconds(20)).until(() -> own.status(id).equals("waiting_for_input"));
            int subscriptionsBefore = own.manager.stats().openSubscriptions();
            HttpResponse<InputStream> r = own.http.send(own.request("/api/tasks/" + id + "/stream").GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            SseParser p = new SseParser(r.body());
            List<SseParser.Event> events = new ArrayList<>();
            while (events.isEmpty() || !events.get(events.size() - 1).data().contains("waiting_for_input")) {
                events.add(p.next());
            }
            assertThat(own.server.openStreams()).isEqualTo(1);
            assertThat(own.manager.stats().openSubscriptions()).isEqualTo(subscriptionsBefore + 1);
            r.body().close();
            await().atMost(Duration.ofSeconds(10)).until(() -> own.server.openStreams() == 0);
            await().atMost(Duration.ofSeconds(10)).until(() -> own.manager.stats().openSubscriptions() == subscriptionsBefore);
        }
    }

    @Test
    void aClosedClientsSlotIsFreedWithinTwoSecondsNotAtTheNextHeartbeat() throws Exception {
        // a 15 s heartbeat: the slot must come back long before the next one would be written
        try (HostFixture own = HostFixture.start(b -> b.heartbeatInterval(Duration.ofSeconds(15)).maxStreamsPerTask(1))) {
            String id = own.createDemo("slot, ask");
            await().atMost(Duration.ofSeconds(20)).until(() -> own.status(id).equals("waiting_for_input"));
            HttpResponse<InputStream> r = own.http.send(own.request("/api/tasks/" + id + "/stream").GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            SseParser p = new SseParser(r.body());
            while (!p.next().data().contains("waiting_for_input")) {
                // read up to the wait
            }
            assertThat(own.get("/api/tasks/" + id + "/stream").statusCode()).isEqualTo(429);
            r.body().close();
            await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50))
                    .until(() -> own.server.openStreams() == 0);
            HttpResponse<InputStream> again = own.http.send(own.request("/api/tasks/" + id + "/stream").GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(again.statusCode()).isEqualTo(200);
            again.body().close();
        }
    }

    @Test
    void heartbeatCommentsArriveWhileATaskWaits() throws Exception {
        try (HostFixture own = HostFixture.start(b -> b.heartbeatInterval(Duration.ofMillis(50)))) {
            String id = own.createDemo("heartbeat, ask");
            await().atMost(Duration.ofSeconds(20)).until(() -> own.status(id).equals("waiting_for_input"));
            HttpResponse<InputStream> r = own.http.send(own.request("/api/tasks/" + id + "/stream").GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                byte[] buf = new byte[8192];
                StringBuilder text = new StringBuilder();
                while (!text.toString().contains(": heartbeat\n\n: heartbeat\n\n")) {
                    int n = in.read(buf);
                    assertThat(n).isPositive();
                    text.append(new String(buf, 0, n, java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
    }

    @Test
    void streamCapsPerTaskAndInTotalAnswer429() throws Exception {
        try (HostFixture own = HostFixture.start(b -> b.maxStreamsPerTask(2).maxStreamsTotal(3))) {
            String a = own.createDemo("a, ask");
            String b = own.createDemo("b, ask");
            List<InputStream> open = new ArrayList<>();
            try {
                open.add(openStream(own, a));
                open.add(openStream(own, a));
                HttpResponse<String> third = own.get("/api/tasks/" + a + "/stream");
                TasksApiTest.assertError(third, 429, null);
                assertThat(third.headers().firstValue("Retry-After")).isPresent();
                open.add(openStream(own, b));
                TasksApiTest.assertError(own.get("/api/tasks/" + b + "/stream"), 429, null);
                assertThat(own.server.openStreams()).isEqualTo(3);
                open.remove(0).close();
                await().atMost(Duration.ofSeconds(10)).until(() -> own.server.openStreams() == 2);
                open.add(openStream(own, a));
            } finally {
                for (InputStream in : open) {
                    in.close();
                }
            }
        }
    }

    @Test
    void deletingAWatchedTaskEndsItsStream() throws Exception {
        String id = host.createDemo("delete while watching, ask");
        await().atMost(Duration.ofSeconds(20)).until(() -> host.status(id).equals("waiting_for_input"));
        CompletableFuture<HttpResponse<String>> watching = host.http.sendAsync(
                host.request("/api/tasks/" + id + "/stream").GET().build(), HttpResponse.BodyHandlers.ofString());
        await().atMost(Duration.ofSeconds(10)).until(() -> host.server.openStreams() > 0);
        assertThat(host.delete("/api/tasks/" + id).statusCode()).isEqualTo(200);
        List<SseParser.Event> events = SseParser.parseAll(watching.get().body());
        SseParser.Event last = events.get(events.size() - 1);
        // delete cancels first: the stream sees the terminal status, or, if it was behind, the deletion
        if (last.event().equals("status")) {
            assertThat(HostFixture.json(last.data()).get("data").get("status").asText()).isEqualTo("cancelled");
        } else {
            assertThat(last.event()).isEqualTo("stream_error");
            assertThat(HostFixture.json(last.data()).get("code").asText()).isEqualTo("deleted");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> host.server.openStreams() == 0);
    }

    @Test
    void stoppingTheServerEndsOpenStreams() throws Exception {
        HostFixture own = HostFixture.start();
        try {
            String id = own.createDemo("stop while watching, ask");
            CompletableFuture<HttpResponse<String>> watching = own.http.sendAsync(
                    own.request("/api/tasks/" + id + "/stream").GET().build(), HttpResponse.BodyHandlers.ofString());
            await().atMost(Duration.ofSeconds(10)).until(() -> own.server.openStreams() == 1);
            own.server.close();
            assertThat(watching.get(10, java.util.concurrent.TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        } finally {
            own.close();
        }
    }

    @Test
    void twoHundredConcurrentStreamsOnOneTaskEachGetTheWholeLog() {
        try (HostFixture own = HostFixture.start(b -> b.demoTokenDelay(Duration.ofMillis(20)))) {
            String id = own.createDemo("many watchers");
            List<CompletableFuture<HttpResponse<String>>> streams = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                streams.add(own.http.sendAsync(own.request("/api/tasks/" + id + "/stream").timeout(Duration.ofSeconds(60))
                        .GET().build(), HttpResponse.BodyHandlers.ofString()));
            }
            List<List<Long>> seqs = new ArrayList<>();
            for (CompletableFuture<HttpResponse<String>> f : streams) {
                HttpResponse<String> r = f.join();
                assertThat(r.statusCode()).isEqualTo(200);
                List<SseParser.Event> events = SseParser.parseAll(r.body());
                assertContiguous(events, 1);
                assertThat(events.get(events.size() - 1).data()).contains("\"status\":\"completed\"");
                seqs.add(events.stream().map(SseParser.Event::seq).collect(Collectors.toList()));
            }
            assertThat(seqs).hasSize(200).allSatisfy(s -> assertThat(s).isEqualTo(seqs.get(0)));
            await().atMost(Duration.ofSeconds(10)).until(() -> own.server.openStreams() == 0);
        }
    }

    @Test
    void lineBreaksInTypesCanNotForgeFieldsOrEvents() {
        TaskEvent evil = new TaskEvent("task_x", 7, "delta\r\nevent: status\ndata: {\"forged\":true}\r\rid: 99",
                Map.of("text", "line one\nline two\r\n\r\ndata: nope\n\nid: 100"), Instant.parse("2026-01-01T00:00:00Z"));
        String frame = SseStream.frame(evil, true);
        assertThat(frame).endsWith("\n\n");
        assertThat(frame.substring(0, frame.length() - 2)).doesNotContain("\r").doesNotContain("\n\n");
        List<SseParser.Event> parsed = SseParser.parseAll(frame);
        assertThat(parsed).hasSize(1);
        assertThat(parsed.get(0).id()).isEqualTo("7");
        assertThat(parsed.get(0).event()).doesNotContain("\n").startsWith("delta__event: status_data");
        assertThat(HostFixture.json(parsed.get(0).data()).get("data").get("text").asText())
                .isEqualTo("line one\nline two\r\n\r\ndata: nope\n\nid: 100");
        assertThat(SseStream.sanitize("a\u2028b\u0000c")).isEqualTo("a_b_c");
    }

    private static InputStream openStream(HostFixture own, String id) throws Exception {
        HttpResponse<InputStream> r = own.http.send(own.request("/api/tasks/" + id + "/stream").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        InputStream in = r.body();
        // the preamble arrives once the stream is counted
        assertThat(in.read()).isEqualTo('r');
        return in;
    }

    static void assertContiguous(List<SseParser.Event> events, long from) {
        assertThat(events).isNotEmpty();
        List<Long> seqs = events.stream().map(SseParser.Event::seq).collect(Collectors.toList());
        assertThat(seqs).containsExactlyElementsOf(
                LongStream.range(from, from + seqs.size()).boxed().collect(Collectors.toList()));
    }

    static String readAll(InputStream in) throws IOException {
        return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
}
