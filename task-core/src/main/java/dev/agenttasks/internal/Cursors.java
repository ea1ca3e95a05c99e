package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.Task;
import dev.agenttasks.spi.TaskCursor;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/** The opaque list cursors handed to callers: {@code v1:<createdAt seconds>:<nanos>:<id>}, base64url. */
final class Cursors {
    private Cursors() {
    }

    static String encode(Task last) {
        String raw = "v1:" + last.createdAt().getEpochSecond() + ":" + last.createdAt().getNano() + ":" + last.id();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    static TaskCursor decode(String cursor) {
        try {
            String raw = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            String[] p = raw.split(":", 4);
            if (p.length != 4 || !p[0].equals("v1") || p[3].isEmpty()) {
                throw new IllegalArgumentException(raw);
            }
            return new TaskCursor(Instant.ofEpochSecond(Long.parseLong(p[1]), Long.parseLong(p[2])), p[3]);
        } catch (RuntimeException e) {
            throw new InvalidRequestException("cursor", "not a cursor issued by this library: " + cursor);
        }
    }
}
