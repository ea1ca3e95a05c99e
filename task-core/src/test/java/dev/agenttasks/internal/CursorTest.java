package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.Task;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.TaskCursor;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CursorTest {

    @Test
    void roundTripsWithNanoPrecision() {
        Instant at = Instant.ofEpochSecond(1_700_000_000L, 123_456_789);
        Task t = new Task("task_x", "a", null, TaskStatus.PENDING, "t", null, at, null, null, null, null, Map.of());
        String c = Cursors.encode(t);
        assertThat(c).matches("[A-Za-z0-9_-]+");
        assertThat(Cursors.decode(c)).isEqualTo(new TaskCursor(at, "task_x"));
    }

    @Test
    void rejectsForeignCursors() {
        assertThatThrownBy(() -> Cursors.decode("not-a-cursor"))
                .isInstanceOf(InvalidRequestException.class)
                .satisfies(e -> assertThat(((InvalidRequestException) e).field()).isEqualTo("cursor"));
    }
}
