package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.testkit.ScriptedAgentRunner;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static dev.agenttasks.examples.TwoPostgresHosts.AGENT;
import static dev.agenttasks.examples.TwoPostgresHosts.postJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two example hosts on one PostgreSQL schema (the README's "two hosts on one PostgreSQL"), over HTTP: a task
 * created through host A runs on A and is served by host B: its stream, its status in the list, a follow-up
 * message and a cancel; and an {@code Idempotency-Key} retried on the other host.
 */
class TwoHostsTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    private static final Duration WAIT = Duration.ofSeconds(30);

    private TwoPostgresHosts hosts;

    @AfterEach
    void stop() {
        if (hosts != null) {
            hosts.close();
        }
    }

    @Test
    @Timeout(120)
    void hostBStreamsMessagesAndCancelsATaskRunningOnHostA(@TempDir Path data) throws Exception {
        hosts = TwoPostgresHosts.start(PG.server(), data);
        ExampleHost a = hosts.a;
        ExampleHost b = hosts.b;
        ScriptedAgentRunner.Gate firstTurn = new ScriptedAgentRunner.Gate();
        ScriptedAgentRunner.Gate secondTurn = new ScriptedAgentRunner.Gate();
        for (ScriptedAgentRunner r : List.of(hosts.runnerA, hosts.runnerB)) {
            r.script(AGENT, 1, ScriptedAgentRunner.steps().emit("text_delta", Map.of("text", "first "))
                    .emit("text_delta", Map.of("text", "part\n")).await(firstTurn)
                    .emit("text_delta", Map.of("text", "second part\n")).thenComplete(Map.of("turn", 1L)));
            r.script(AGENT, 2, ScriptedAgentRunner.steps().emit("text_delta", Map.of("text", "thanks\n"))
                    .await(secondTurn).thenComplete(Map.of("turn", 2L)));
        }

        String id = hosts.call(postJson(a, "/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"work on host A\"}"), 201)
                .get("id").asText();
        CompletableFuture<List<SseParser.Event>> onA = hosts.stream(a, id);
        CompletableFuture<List<SseParser.Event>> onB = hosts.stream(b, id);
        firstTurn.awaitReached(WAIT);
        assertThat(hosts.runnerA.turns(id)).hasSize(1);

        // B lists the task with the status A gives it, and counts it as running
        await().atMost(WAIT).until(() -> "running".equals(hosts.status(a, id)));
        await().atMost(WAIT).until(() -> "running".equals(hosts.listedStatus(b, id)));
        assertThat(hosts.status(b, id)).isEqualTo("running");
        assertThat(hosts.get(b, "/api/tasks/running/count").get("count").asInt()).isEqualTo(1);

        // a follow-up message through B runs on A as the task's next turn
        JsonNode sent = hosts.call(postJson(b, "/api/tasks/" + id + "/message", "{\"message\":\"and then?\"}"), 200);
        assertThat(sent.get("result").asText()).isEqualTo("queued");
        firstTurn.release();
        secondTurn.awaitReached(WAIT);
        List<dev.agenttasks.spi.Turn> turns = hosts.runnerA.turns(id);
        assertThat(turns).hasSize(2);
        assertThat(turns.get(1).message().text()).isEqualTo("and then?");
        assertThat(hosts.runnerB.turns(id)).as("turns run on host B").isEmpty();
        await().atMost(WAIT).until(() -> "running".equals(hosts.listedStatus(b, id)));

        // a cancel through B stops A's turn
        JsonNode cancelled = hosts.call(postJson(b, "/api/tasks/" + id + "/cancel", "{}"), 200);
        assertThat(cancelled.get("status").asText()).isEqualTo("cancelled");
        assertThat(hosts.runnerA.awaitTurnFinished(id, 2, WAIT).interrupted()).isTrue();
        await().atMost(WAIT).until(() -> "cancelled".equals(hosts.status(a, id)));
        await().atMost(WAIT).until(() -> "cancelled".equals(hosts.listedStatus(b, id)));
        assertThat(hosts.get(b, "/api/tasks/running/count").get("count").asInt()).isZero();

        // both streams ended after the terminal status; B's is A's is the stored log: gapless, in order, once each
        List<SseParser.Event> streamA = onA.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        List<SseParser.Event> streamB = onB.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        List<TaskEvent> stored = hosts.storedEvents(id);
        assertThat(streamB).isEqualTo(streamA);
        assertThat(streamB).extracting(SseParser.Event::seq)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, stored.size()).boxed().toList());
        assertThat(streamB).extracting(SseParser.Event::data)
                .containsExactlyElementsOf(stored.stream().map(e -> Json.string(Json.event(e))).toList());
        SseParser.Event last = streamB.get(streamB.size() - 1);
        assertThat(last.event()).isEqualTo(TaskEvent.STATUS);
        assertThat(HostFixture.json(last.data()).get("data").get("status").asText()).isEqualTo("cancelled");
        assertThat(streamB).extracting(SseParser.Event::type).contains("text_delta", "user_message")
                .filteredOn(TaskEvent.STATUS::equals).hasSizeGreaterThanOrEqualTo(3);
    }

    @Test
    @Timeout(120)
    void aCreateRetriedOnTheOtherHostWithItsIdempotencyKeyReturnsTheSameTask(@TempDir Path data) throws Exception {
        hosts = TwoPostgresHosts.start(PG.server(), data);
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        hosts.runnerA.defaultScript(ScriptedAgentRunner.steps().await(gate).thenComplete());
        hosts.runnerB.defaultScript(ScriptedAgentRunner.steps().await(gate).thenComplete());
        String body = "{\"agent_id\":\"demo\",\"message\":\"only once\"}";
        JsonNode first = hosts.call(postJson(hosts.a, "/api/tasks", body, "Idempotency-Key", "order-42"), 201);
        JsonNode retried = hosts.call(postJson(hosts.b, "/api/tasks", body, "Idempotency-Key", "order-42"), 201);
        String id = first.get("id").asText();
        assertThat(retried.get("id").asText()).isEqualTo(id);
        // the same key with another request is refused on either host
        JsonNode refused = hosts.call(postJson(hosts.b, "/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"other\"}",
                "Idempotency-Key", "order-42"), 422);
        assertThat(refused.get("field").asText()).isEqualTo("Idempotency-Key");
        gate.release();
        await().atMost(WAIT).until(() -> "completed".equals(hosts.status(hosts.b, id)));
        assertThat(hosts.get(hosts.b, "/api/tasks")).hasSize(1);
        assertThat(hosts.get(hosts.a, "/api/counts").get("total").asInt()).isEqualTo(1);
        assertThat(hosts.runnerA.turns().size() + hosts.runnerB.turns().size()).as("turns run").isEqualTo(1);
    }

    @Test
    @Timeout(120)
    void aHostStartingBesideAnotherRecoversNoneOfItsTasks(@TempDir Path data) throws Exception {
        // host B starts while A runs a task: B must neither touch it nor report it as recovered
        hosts = TwoPostgresHosts.start(PG.server(), data);
        ScriptedAgentRunner.Gate gate = new ScriptedAgentRunner.Gate();
        hosts.runnerA.defaultScript(ScriptedAgentRunner.steps().await(gate).thenComplete());
        String id = hosts.call(postJson(hosts.a, "/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"busy\"}"), 201)
                .get("id").asText();
        gate.awaitReached(WAIT);
        await().atMost(WAIT).until(() -> "running".equals(hosts.status(hosts.b, id)));
        hosts.b.close();
        hosts.b = ExampleHost.start(HostConfig.parse(new String[] {"--port", "0", "--data-dir",
                data.resolve("b2").toString(), "--postgres", PG.server().jdbcUrl(), "--postgres-user", PG.server().user(),
                "--postgres-schema", hosts.schema, "--host-id", "B"},
                Map.of(HostConfig.PG_PASSWORD_ENV, PG.server().password())), catalog -> hosts.runnerB);
        assertThat(hosts.b.recovered()).as("tasks host B says it recovered at start").isZero();
        assertThat(hosts.status(hosts.b, id)).isEqualTo("running");
        gate.release();
        await().atMost(WAIT).until(() -> "completed".equals(hosts.status(hosts.b, id)));
        assertThat(hosts.runnerA.turns(id)).hasSize(1);
        assertThat(hosts.runnerB.turns(id)).isEmpty();
    }
}
