package dev.agenttasks.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A strict client-side SSE parser for tests, following the WHATWG event-stream rules. */
final class SseParser {

    /** One dispatched event. */
    record Event(String id, String event, String data) {
        long seq() {
            return Long.parseLong(id);
        }

        String type() {
            return HostFixture.json(data).get("type").asText();
        }
    }

    private final BufferedReader reader;
    final List<String> comments = new ArrayList<>();
    String retry;
    private String id;
    private String event;
    private StringBuilder data;

    SseParser(InputStream in) {
        this.reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }

    static List<Event> parseAll(String text) {
        SseParser p = new SseParser(new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
        List<Event> out = new ArrayList<>();
        try {
            Event e;
            while ((e = p.next()) != null) {
                out.add(e);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** @return the next event, or null at the end of the stream */
    Event next() throws IOException {
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.isEmpty()) {
                if (data != null) {
                    Event e = new Event(id, event == null ? "message" : event, data.toString());
                    event = null;
                    data = null;
                    return e;
                }
                event = null;
                continue;
            }
            if (line.startsWith(":")) {
                comments.add(line.substring(1).trim());
                continue;
            }
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "id":
                    id = value;
                    break;
                case "event":
                    event = value;
                    break;
                case "data":
                    data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                    break;
                case "retry":
                    retry = value;
                    break;
                default:
                    throw new AssertionError("unexpected SSE field: " + line);
            }
        }
        return null;
    }
}
