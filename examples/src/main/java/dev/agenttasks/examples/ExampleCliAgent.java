package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * A tiny command-line agent that speaks the JSON-lines protocol of {@link ProcessAgentRunner}, so the
 * process runner can be tried without installing a real CLI agent. It reads one JSON line from standard
 * input, prints a {@code session} line, echoes the message word by word as {@code text_delta} lines and
 * ends with a {@code result} line. A message containing "ask" (on the first turn) ends with an
 * {@code ask_user_question} line instead; one containing "fail" exits with code 3.
 *
 * <p>Usage: {@code java -cp <classpath> dev.agenttasks.examples.ExampleCliAgent [--session ID] [--delay-ms N]}
 */
public final class ExampleCliAgent {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ExampleCliAgent() {
    }

    /**
     * Runs one turn.
     *
     * @param args {@code --session ID} to continue a session, {@code --delay-ms N} between words
     * @throws IOException          if standard input can not be read
     * @throws InterruptedException if interrupted while pausing
     */
    public static void main(String[] args) throws IOException, InterruptedException {
        String session = null;
        long delay = 30;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--session")) {
                session = args[i + 1];
            } else if (args[i].equals("--delay-ms")) {
                delay = Long.parseLong(args[i + 1]);
            }
        }
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String first = in.readLine();
        JsonNode input = first == null ? MAPPER.createObjectNode() : MAPPER.readTree(first);
        String message = input.path("message").asText("");
        if (message.isEmpty() && input.path("content").isArray()) {
            for (JsonNode block : input.get("content")) {
                if ("text".equals(block.path("type").asText())) {
                    message = block.path("text").asText("");
                    break;
                }
            }
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        boolean newSession = session == null;
        if (newSession) {
            session = "cli-" + UUID.randomUUID();
        }
        print(out, Map.of("type", "session", "session_id", session));
        String lower = message.toLowerCase(Locale.ROOT);
        if (lower.matches("(?s).*\\bfail\\b.*")) {
            print(out, Map.of("type", "text_delta", "text", "Failing as asked. "));
            System.err.println("simulated failure: the message asked the agent to fail");
            System.exit(3);
        }
        if (newSession && lower.matches("(?s).*\\bask\\b.*")) {
            print(out, Map.of("type", "ask_user_question", "question", "What should I echo back?"));
            return;
        }
        StringBuilder all = new StringBuilder();
        for (String word : ("Echo: " + message).split("\\s+")) {
            print(out, Map.of("type", "text_delta", "text", word + " "));
            all.append(word).append(' ');
            Thread.sleep(delay);
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("type", "result");
        result.put("text", all.toString().trim());
        print(out, result);
    }

    private static void print(PrintStream out, Map<String, ?> line) throws IOException {
        out.println(MAPPER.writeValueAsString(line));
    }
}
