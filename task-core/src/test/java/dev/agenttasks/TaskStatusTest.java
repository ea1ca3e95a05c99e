package dev.agenttasks;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;

import static dev.agenttasks.TaskStatus.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TaskStatusTest {

    @Test
    void terminalStatusesHaveNoWayOut() {
        for (TaskStatus t : EnumSet.of(COMPLETED, FAILED, CANCELLED)) {
            assertThat(t.isTerminal()).isTrue();
            for (TaskStatus next : values()) {
                assertThat(t.canMoveTo(next)).as("%s -> %s", t, next).isFalse();
            }
        }
    }

    @Test
    void theLegalTransitionsAreExactlyTheseOnes() {
        int legal = 0;
        for (TaskStatus a : values()) {
            for (TaskStatus b : values()) {
                if (a.canMoveTo(b)) {
                    legal++;
                }
            }
        }
        assertThat(legal).isEqualTo(3 + 5 + 4);
        assertThat(WAITING_FOR_INPUT.canMoveTo(PENDING)).as("a message while no slot is free").isTrue();
        assertThat(PENDING.canMoveTo(WAITING_FOR_INPUT)).isFalse();
        assertThat(PENDING.canMoveTo(COMPLETED)).isFalse();
        assertThat(WAITING_FOR_INPUT.canMoveTo(COMPLETED)).isFalse();
        assertThat(RUNNING.canMoveTo(PENDING)).as("a retry, or a turn interrupted by a message").isTrue();
        assertThat(RUNNING.canMoveTo(RUNNING)).isFalse();
    }

    @Test
    void parsesWireNames() {
        assertThat(TaskStatus.parse("waiting_for_input")).isEqualTo(WAITING_FOR_INPUT);
        assertThat(TaskStatus.parse("RUNNING")).isEqualTo(RUNNING);
        assertThat(RUNNING.wireName()).isEqualTo("running");
        assertThatThrownBy(() -> TaskStatus.parse("done")).isInstanceOf(InvalidRequestException.class);
        assertThatThrownBy(() -> TaskStatus.parse(null)).isInstanceOf(InvalidRequestException.class);
    }
}
