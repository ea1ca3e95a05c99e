package dev.agenttasks.internal;

import dev.agenttasks.TaskEvent;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The live tail is bounded by bytes as well as by count; the newest events stay. */
class EventTailTest {
    private static TaskEvent event(long seq, int chars) {
        return new TaskEvent("t", seq, "delta", Json.copyEncoded(Map.of("text", "x".repeat(chars)), "data", 1 << 24),
                Instant.EPOCH);
    }

    @Test
    void largeEventsAreBoundedByBytesNotOnlyByCount() {
        EventTail tail = new EventTail(4096, 50_000);
        for (long seq = 1; seq <= 100; seq++) {
            TaskEvent e = event(seq, 10_000);
            tail.add(e, Events.size(e));
            assertThat(tail.bytes()).isLessThanOrEqualTo(50_000);
        }
        int one = Events.size(event(1, 10_000));
        assertThat(one).isGreaterThan(10_000);
        assertThat(tail.size()).isEqualTo(50_000 / one);
        for (long seq = 100; seq > 100 - tail.size(); seq--) {
            assertThat(tail.get(seq)).as("seq %d, among the newest", seq).isNotNull();
        }
        assertThat(tail.get(100 - tail.size())).as("older events are dropped from memory").isNull();
        assertThat(tail.get(1)).isNull();
    }

    @Test
    void smallEventsAreBoundedByCount() {
        EventTail tail = new EventTail(64, 50_000_000);
        for (long seq = 1; seq <= 1000; seq++) {
            TaskEvent e = event(seq, 10);
            tail.add(e, Events.size(e));
        }
        assertThat(tail.size()).isEqualTo(64);
        assertThat(tail.get(1000)).isNotNull();
        assertThat(tail.get(937)).isNotNull();
        assertThat(tail.get(936)).isNull();
        assertThat(tail.bytes()).isEqualTo(64L * Events.size(event(1, 10)));
    }

    @Test
    void anEventLargerThanTheBudgetStaysAloneAndClearResets() {
        EventTail tail = new EventTail(4096, 1_000);
        TaskEvent small = event(1, 10);
        tail.add(small, Events.size(small));
        TaskEvent big = event(2, 5_000);
        tail.add(big, Events.size(big));
        assertThat(tail.size()).isEqualTo(1);
        assertThat(tail.get(2)).isSameAs(big);
        assertThat(tail.get(1)).isNull();
        TaskEvent next = event(3, 10);
        tail.add(next, Events.size(next));
        assertThat(tail.get(3)).isSameAs(next);
        assertThat(tail.get(2)).as("the big one goes once the newer one is in").isNull();
        assertThat(tail.bytes()).isEqualTo(Events.size(next));
        tail.clear();
        assertThat(tail.size()).isZero();
        assertThat(tail.bytes()).isZero();
        assertThat(tail.get(3)).isNull();
    }
}
