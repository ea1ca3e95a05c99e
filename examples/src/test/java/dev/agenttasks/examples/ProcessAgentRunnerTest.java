package dev.agenttasks.examples;

import dev.agenttasks.TaskMessage;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class ProcessAgentRunnerTest {

    private static final AgentDescriptor AGENT = new AgentDescriptor("proc", "Process agent", "m");

    private static ProcessAgentRunner sh(String script) {
        return new ProcessAgentRunner(AGENT, List.of("sh", "-c", script), "--session");
    }

    private static Turn turn(int n, String session, String text, String workDir) {
        return new Turn("task_p", "proc", n, session, TaskMessage.text(text), Map.of("enable_mcp", true), workDir, false);
    }

    @Test
    void jsonLinesBecomeEventsAndAResultCompletesTheTurn() throws Exception {
        ProcessAgentRunner runner = sh("read input; "
                + "echo '{\"type\":\"session\",\"session_id\":\"s-42\"}'; "
                + "echo 'plain text line'; "
                + "printf '%s\\n' \"{\\\"type\\\":\\\"echo\\\",\\\"input\\\":$input}\"; "
                + "echo '{\"type\":\"text_delta\",\"text\":\"hi\"}'; "
                + "echo '{\"type\":\"status\",\"status\":\"forged\"}'; "
                + "echo '{\"type\":\"result\",\"answer\":42}'");
        RecordingContext ctx = new RecordingContext();
        TurnResult r = runner.runTurn(turn(1, null, "hello", null), ctx);
        assertThat(r.kind()).isEqualTo(TurnResult.Kind.COMPLETED);
        assertThat(r.data()).containsEntry("answer", 42);
        assertThat(ctx.sessionId).isEqualTo("s-42");
        assertThat(ctx.types()).containsExactly("session", "output", "echo", "text_delta", "output", "result");
        assertThat(ctx.events.get(1).data()).containsEntry("text", "plain text line");
        @SuppressWarnings("unchecked")
        Map<String, Object> input = (Map<String, Object>) ctx.events.get(2).data().get("input");
        assertThat(input).containsEntry("task_id", "task_p").containsEntry("message", "hello").containsEntry("turn", 1);
        assertThat(input.get("options")).isEqualTo(Map.of("enable_mcp", true));
    }

    @Test
    void askUserQuestionEndsTheTurnAwaitingInputAndTheSessionIsPassedBack(@TempDir Path dir) throws Exception {
        ProcessAgentRunner runner = sh("echo \"{\\\"type\\\":\\\"ask_user_question\\\",\\\"question\\\":\\\"which?\\\","
                + "\\\"args\\\":\\\"$*\\\",\\\"env\\\":\\\"$AGENT_SESSION_ID/$AGENT_TURN\\\",\\\"cwd\\\":\\\"$(pwd)\\\"}\"");
        RecordingContext ctx = new RecordingContext();
        TurnResult r = runner.runTurn(turn(2, "sess-1", "x", dir.toString()), ctx);
        assertThat(r.kind()).isEqualTo(TurnResult.Kind.AWAITING_INPUT);
        assertThat(r.data()).containsEntry("question", "which?").containsEntry("env", "sess-1/2")
                .containsEntry("cwd", dir.toRealPath().toString());
        assertThat((String) r.data().get("args")).contains("sess-1");
    }

    @Test
    void aNonZeroExitFailsWithTheEndOfStandardError() {
        ProcessAgentRunner runner = sh("echo '{\"type\":\"text_delta\",\"text\":\"a\"}'; echo 'boom happened' >&2; exit 7");
        RecordingContext ctx = new RecordingContext();
        assertThatThrownBy(() -> runner.runTurn(turn(1, null, "x", null), ctx))
                .hasMessageContaining("exited with code 7").hasMessageContaining("boom happened");
        assertThat(ctx.types()).containsExactly("text_delta");
    }

    @Test
    void anErrorLineFailsTheTurn() {
        ProcessAgentRunner runner = sh("echo '{\"type\":\"error\",\"error\":\"rate limited\"}'");
        assertThatThrownBy(() -> runner.runTurn(turn(1, null, "x", null), new RecordingContext()))
                .hasMessageContaining("rate limited");
    }

    @Test
    void cancellingKillsTheWholeProcessTree(@TempDir Path dir) throws Exception {
        Path pids = dir.resolve("pids");
        ProcessAgentRunner runner = sh("sleep 300 & echo $! > " + pids + "; "
                + "echo '{\"type\":\"text_delta\",\"text\":\"working\"}'; wait");
        RecordingContext ctx = new RecordingContext();
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                runner.runTurn(turn(1, null, "x", null), ctx);
            } catch (Throwable e) {
                thrown.set(e);
            } finally {
                ended.countDown();
            }
        });
        t.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> ctx.types().contains("text_delta") && Files.exists(pids)
                && !Files.readString(pids).isBlank());
        long child = Long.parseLong(Files.readString(pids).trim());
        assertThat(ProcessHandle.of(child)).hasValueSatisfying(h -> assertThat(h.isAlive()).isTrue());
        t.interrupt();
        assertThat(ended.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
    }

    @Test
    void theCancellationFlagAlsoKillsTheProcess(@TempDir Path dir) throws Exception {
        Path pid = dir.resolve("pid");
        ProcessAgentRunner runner = sh("echo $$ > " + pid + "; exec sleep 300");
        RecordingContext ctx = new RecordingContext();
        java.util.concurrent.CompletableFuture<TurnResult> turn = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return runner.runTurn(turn(1, null, "x", null), ctx);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, r -> {
            Thread t = new Thread(r, "test-turn"); // not the common pool, which may have a single busy worker
            t.setDaemon(true);
            t.start();
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(pid) && !Files.readString(pid).isBlank());
        long agent = Long.parseLong(Files.readString(pid).trim());
        ctx.cancelled = true;
        assertThatThrownBy(turn::join).hasCauseInstanceOf(java.util.concurrent.CancellationException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(agent).map(h -> !h.isAlive()).orElse(true));
    }

    @Test
    void theBundledCliAgentSpeaksTheProtocol() throws Exception {
        AgentCatalog.Entry cli = AgentCatalog.bundled().get("cli-echo").orElseThrow();
        List<String> command = new java.util.ArrayList<>(cli.command());
        command.addAll(List.of("--delay-ms", "0"));
        ProcessAgentRunner runner = new ProcessAgentRunner(cli.descriptor(), command, cli.sessionArg());
        RecordingContext first = new RecordingContext();
        TurnResult asked = runner.runTurn(turn(1, null, "please ask me", null), first);
        assertThat(asked.kind()).isEqualTo(TurnResult.Kind.AWAITING_INPUT);
        assertThat(first.sessionId).startsWith("cli-");

        RecordingContext second = new RecordingContext();
        TurnResult done = runner.runTurn(turn(2, first.sessionId, "echo this back", null), second);
        assertThat(done.kind()).isEqualTo(TurnResult.Kind.COMPLETED);
        assertThat(done.data()).containsEntry("text", "Echo: echo this back");
        assertThat(second.text()).isEqualTo("Echo: echo this back ");
    }
}
