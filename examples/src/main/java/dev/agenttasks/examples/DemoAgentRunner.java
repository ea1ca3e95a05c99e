package dev.agenttasks.examples;

import dev.agenttasks.TaskMessage;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.regex.Pattern;

/**
 * A scripted agent that needs no network or model, so every feature of the host can be seen.
 *
 * <p>It reports a session id, emits a {@code thinking} event, then streams a multi-step answer as
 * {@code text_delta} events, one token at a time with a pause between tokens, and ends with a
 * {@code result} event. Words in the message steer it:
 * <ul>
 *   <li>{@code ask}: on the first turn it asks the user a question ({@code ask_user_question}) and waits
 *       for input; the answer starts the next turn;</li>
 *   <li>{@code fail}: it streams a little and then fails;</li>
 *   <li>{@code long}: the answer is twenty times longer (to watch, cancel or interrupt it).</li>
 * </ul>
 * Pauses are interruptible and the cancellation flag is checked between tokens.
 */
public final class DemoAgentRunner implements AgentRunner {

    private static final Pattern ASK = Pattern.compile("\\bask\\b");
    private static final Pattern FAIL = Pattern.compile("\\bfail\\b");
    private static final Pattern LONG = Pattern.compile("\\blong\\b");
    private static final String[] STEPS = {
        "Step 1: read the request and split it into parts.",
        "Step 2: look at what is already known about each part.",
        "Step 3: work through the parts one by one, checking each result.",
        "Step 4: put the pieces together into one answer.",
        "Done: the work is complete and summarised above."
    };

    private final AgentDescriptor descriptor;
    private final Duration tokenDelay;

    /**
     * @param descriptor the agent this runner plays
     * @param tokenDelay the pause between two streamed tokens (zero for none)
     */
    public DemoAgentRunner(AgentDescriptor descriptor, Duration tokenDelay) {
        this.descriptor = Objects.requireNonNull(descriptor, "descriptor can not be null");
        this.tokenDelay = Objects.requireNonNull(tokenDelay, "tokenDelay can not be null");
    }

    @Override
    public Optional<AgentDescriptor> describe(String agentId) {
        return descriptor.id().equals(agentId) ? Optional.of(descriptor) : Optional.empty();
    }

    @Override
    public TurnResult runTurn(Turn turn, TurnContext context) throws InterruptedException {
        String text = text(turn.message());
        String lower = text.toLowerCase(Locale.ROOT);
        boolean firstTurn = turn.sessionId() == null;
        if (firstTurn) {
            context.sessionId("demo-" + turn.taskId());
        }
        context.emit("thinking", Map.of("text", firstTurn ? "Reading the request." : "Reading your reply."));
        pause(context);

        if (FAIL.matcher(lower).find()) {
            stream(context, "Starting, but this request asks me to fail.");
            throw new IllegalStateException("the demo agent failed on purpose (the message said \"fail\")");
        }
        if (firstTurn && ASK.matcher(lower).find()) {
            stream(context, "Before I start I need one detail from you.");
            Map<String, Object> question = new LinkedHashMap<>();
            question.put("question", "Which format do you want the answer in?");
            question.put("options", List.of("short summary", "detailed steps"));
            context.emit("ask_user_question", question);
            return TurnResult.awaitingInput(question);
        }
        StringBuilder answer = new StringBuilder();
        if (!firstTurn && !text.isBlank()) {
            answer.append(stream(context, "Thanks, you said: " + abbreviate(text) + "."));
        }
        int rounds = LONG.matcher(lower).find() ? 20 : 1;
        for (int r = 0; r < rounds; r++) {
            for (String step : STEPS) {
                answer.append(stream(context, step));
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("text", answer.toString().trim());
        result.put("turn", turn.number());
        context.emit("result", result);
        return TurnResult.completed(Map.of("summary", "demo answer of " + answer.length() + " characters"));
    }

    /** Streams one sentence word by word as {@code text_delta} events; returns it with a trailing space. */
    private String stream(TurnContext context, String sentence) throws InterruptedException {
        List<String> tokens = new ArrayList<>();
        for (String word : sentence.split(" ")) {
            tokens.add(word + " ");
        }
        tokens.set(tokens.size() - 1, tokens.get(tokens.size() - 1).trim() + "\n");
        for (String token : tokens) {
            context.emit("text_delta", Map.of("text", token));
            pause(context);
        }
        return sentence + " ";
    }

    private void pause(TurnContext context) throws InterruptedException {
        if (context.isCancelled()) {
            throw new CancellationException("task " + context.taskId() + " was cancelled");
        }
        if (!tokenDelay.isZero()) {
            Thread.sleep(tokenDelay.toMillis());
        } else if (Thread.interrupted()) {
            throw new InterruptedException("task " + context.taskId() + " was interrupted");
        }
    }

    private static String text(TaskMessage message) {
        if (message == null) {
            return "";
        }
        String t = message.firstText();
        return t == null ? "" : t;
    }

    private static String abbreviate(String s) {
        String oneLine = s.replaceAll("\\s+", " ").trim();
        return oneLine.codePointCount(0, oneLine.length()) <= 60 ? oneLine
                : oneLine.substring(0, oneLine.offsetByCodePoints(0, 60)) + "…";
    }
}
