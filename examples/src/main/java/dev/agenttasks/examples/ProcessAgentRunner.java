package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Runs an agent as an operating-system process, one process per turn: how a host drives a CLI agent
 * that streams JSON lines.
 *
 * <p><b>Input.</b> The process gets the configured command, plus {@code <sessionArg> <session id>} when
 * a session id is known and a session argument is configured; the environment variables
 * {@code AGENT_TASK_ID}, {@code AGENT_TURN}, {@code AGENT_SESSION_ID} (empty on the first turn) and
 * {@code AGENT_RESUMED}; and on standard input one JSON line
 * {@code {"task_id", "turn", "session_id", "message" | "content", "options", "resumed"}}, after which
 * standard input is closed. It runs in the task's work directory when that exists.
 *
 * <p><b>Output.</b> Each line printed on standard output that is a JSON object with a string
 * {@code type} becomes an event of that type, with the other fields as its data; any other line becomes
 * an {@code output} event {@code {"text": line}}. Three types also steer the turn:
 * {@code session} ({@code session_id} is recorded as the task's session), {@code ask_user_question}
 * (the turn ends awaiting the user's answer) and {@code result} (the turn completes). A
 * {@code {"type": "error", "error": "..."}} line fails the task with that message.
 *
 * <p><b>End.</b> After an ending line the process gets a grace period to exit. A non-zero exit code
 * fails the task, with the end of standard error in the message. Cancellation (thread interrupt or the
 * context's flag) kills the whole process tree: descendants first, politely, then forcibly.
 */
public final class ProcessAgentRunner implements AgentRunner {

    private static final Logger log = LoggerFactory.getLogger(ProcessAgentRunner.class);
    private static final Pattern EVENT_TYPE = Pattern.compile("[A-Za-z][A-Za-z0-9_.:-]{0,63}");
    private static final Duration EXIT_GRACE = Duration.ofSeconds(5);
    private static final Duration KILL_GRACE = Duration.ofSeconds(2);
    private static final int STDERR_TAIL = 2000;
    private static final Object EOF = new Object();

    private final AgentDescriptor descriptor;
    private final List<String> command;
    private final String sessionArg;

    /**
     * @param descriptor the agent
     * @param command    the command and its arguments
     * @param sessionArg the option that passes a known session id (for example {@code --resume}), or null
     */
    public ProcessAgentRunner(AgentDescriptor descriptor, List<String> command, String sessionArg) {
        this.descriptor = Objects.requireNonNull(descriptor, "descriptor can not be null");
        this.command = List.copyOf(command);
        if (this.command.isEmpty()) {
            throw new IllegalArgumentException("command can not be empty");
        }
        this.sessionArg = sessionArg;
    }

    @Override
    public Optional<AgentDescriptor> describe(String agentId) {
        return descriptor.id().equals(agentId) ? Optional.of(descriptor) : Optional.empty();
    }

    @Override
    public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
        List<String> args = new ArrayList<>(command);
        if (sessionArg != null && turn.sessionId() != null) {
            args.add(sessionArg);
            args.add(turn.sessionId());
        }
        ProcessBuilder pb = new ProcessBuilder(args);
        if (turn.workDir() != null && Files.isDirectory(Path.of(turn.workDir()))) {
            pb.directory(new File(turn.workDir()));
        }
        Map<String, String> env = pb.environment();
        env.put("AGENT_TASK_ID", turn.taskId());
        env.put("AGENT_TURN", Integer.toString(turn.number()));
        env.put("AGENT_SESSION_ID", turn.sessionId() == null ? "" : turn.sessionId());
        env.put("AGENT_RESUMED", Boolean.toString(turn.resumed()));

        Process process = pb.start();
        log.debug("Task {} turn {}: started agent process {} ({})", turn.taskId(), turn.number(), process.pid(),
                args.get(0));
        StringBuffer stderr = new StringBuffer();
        BlockingQueue<Object> lines = new LinkedBlockingQueue<>();
        Thread errReader = daemon("agent-stderr-" + process.pid(), () -> tail(process.getErrorStream(), stderr));
        Thread outReader = daemon("agent-stdout-" + process.pid(), () -> readLines(process.getInputStream(), lines));
        try {
            writeInput(process, turn);
            TurnResult outcome = null;
            String error = null;
            while (outcome == null && error == null) {
                Object item = lines.poll(100, TimeUnit.MILLISECONDS);
                if (Thread.interrupted()) {
                    throw new InterruptedException("task " + turn.taskId() + " interrupted");
                }
                if (context.isCancelled()) {
                    throw new CancellationException("task " + turn.taskId() + " cancelled");
                }
                if (item == null) {
                    continue;
                }
                if (item == EOF) {
                    break;
                }
                String line = (String) item;
                JsonNode node = parse(line);
                if (node == null) {
                    context.emit("output", Map.of("text", line));
                    continue;
                }
                String type = node.get("type").asText();
                Map<String, Object> data = Json.toMap(node);
                data.remove("type");
                switch (type) {
                    case "session":
                        String sid = data.get("session_id") instanceof String ? (String) data.get("session_id") : null;
                        if (sid != null && !sid.isBlank()) {
                            context.sessionId(sid);
                        }
                        emit(context, type, data, line);
                        break;
                    case "ask_user_question":
                        emit(context, type, data, line);
                        outcome = TurnResult.awaitingInput(data);
                        break;
                    case "result":
                        emit(context, type, data, line);
                        outcome = TurnResult.completed(data);
                        break;
                    case "error":
                        emit(context, "agent_error", data, line);
                        error = data.get("error") == null ? "the agent reported an error" : data.get("error").toString();
                        break;
                    default:
                        emit(context, type, data, line);
                }
            }
            if (!process.waitFor(EXIT_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("Task {} turn {}: agent process {} did not exit after its last line; killing it",
                        turn.taskId(), turn.number(), process.pid());
                killTree(process);
            }
            errReader.join(1000);
            int code = process.exitValue();
            if (error != null) {
                throw new AgentProcessException("agent error: " + error);
            }
            if (code != 0) {
                throw new AgentProcessException("agent process exited with code " + code + tailOf(stderr));
            }
            return outcome != null ? outcome : TurnResult.completed(Map.of("exit_code", 0));
        } catch (InterruptedException | CancellationException e) {
            log.info("Task {} turn {}: cancelled, killing agent process tree of {}", turn.taskId(), turn.number(),
                    process.pid());
            killTree(process);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw e;
        } finally {
            if (process.isAlive()) {
                killTree(process);
            }
            outReader.interrupt();
        }
    }

    private void emit(TurnContext context, String type, Map<String, Object> data, String line) {
        String safeType = EVENT_TYPE.matcher(type).matches() && !type.equals("status") ? type : "output";
        try {
            context.emit(safeType, data);
        } catch (InvalidRequestException e) {
            context.emit("output", Map.of("text", line));
        }
    }

    private static JsonNode parse(String line) {
        String t = line.trim();
        if (!t.startsWith("{")) {
            return null;
        }
        try {
            JsonNode node = Json.MAPPER.readTree(t);
            return node != null && node.isObject() && node.hasNonNull("type") && node.get("type").isTextual()
                    ? node : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static void writeInput(Process process, Turn turn) {
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("task_id", turn.taskId());
        input.put("turn", turn.number());
        input.put("session_id", turn.sessionId());
        TaskMessage m = turn.message();
        if (m != null && m.text() != null) {
            input.put("message", m.text());
        } else if (m != null) {
            input.put("content", m.content());
        }
        input.put("options", turn.options());
        input.put("resumed", turn.resumed());
        try (OutputStream in = process.getOutputStream()) {
            in.write(Json.bytes(input));
            in.write('\n');
        } catch (IOException e) {
            // the agent does not read its input; that is its choice
            log.debug("Task {}: agent process closed its input early: {}", turn.taskId(), e.toString());
        }
    }

    /**
     * Kills a process and all its descendants: descendants are collected first (they are re-parented once
     * the parent dies), asked to stop, then forcibly killed after a grace period.
     */
    static void killTree(Process process) {
        List<ProcessHandle> all = new ArrayList<>();
        process.toHandle().descendants().forEach(all::add);
        all.add(process.toHandle());
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + KILL_GRACE.toNanos();
        for (ProcessHandle h : all) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    h.onExit().get(left, TimeUnit.NANOSECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Exception e) {
                // still alive after the grace period: killed forcibly below
                log.debug("process {} ignored the stop request: {}", h.pid(), e.toString());
            }
        }
        all.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }

    private static void readLines(InputStream in, BlockingQueue<Object> lines) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.isBlank()) {
                    lines.add(line);
                }
            }
        } catch (IOException e) {
            log.debug("agent stdout closed: {}", e.toString());
        } finally {
            lines.add(EOF);
        }
    }

    private static void tail(InputStream in, StringBuffer tail) {
        try (InputStreamReader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            char[] buf = new char[1024];
            int n;
            while ((n = r.read(buf)) != -1) {
                tail.append(buf, 0, n);
                if (tail.length() > 2 * STDERR_TAIL) {
                    tail.delete(0, tail.length() - STDERR_TAIL);
                }
            }
        } catch (IOException e) {
            log.debug("agent stderr closed: {}", e.toString());
        }
    }

    private static String tailOf(StringBuffer stderr) {
        String s = stderr.toString().trim();
        if (s.isEmpty()) {
            return "";
        }
        return ": " + (s.length() > STDERR_TAIL ? s.substring(s.length() - STDERR_TAIL) : s);
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The agent process failed: non-zero exit or an error line. */
    static final class AgentProcessException extends Exception {
        private static final long serialVersionUID = 1L;

        AgentProcessException(String message) {
            super(message);
        }
    }
}
