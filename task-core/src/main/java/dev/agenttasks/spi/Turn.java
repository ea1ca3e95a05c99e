package dev.agenttasks.spi;

import dev.agenttasks.TaskMessage;

import java.util.Map;

/**
 * One turn of an agent.
 *
 * @param taskId    the task
 * @param agentId   the agent
 * @param number    the turn number, from 1
 * @param sessionId the session id reported by an earlier turn, or {@code null} on the first turn
 * @param message   the message of this turn: the request's message on turn 1, then a follow-up
 *                  message; {@code null} if the task was created without one or the turn is a resume
 * @param options   the request's runner options (JSON-compatible, immutable)
 * @param workDir   the task's work directory, or {@code null}
 * @param resumed   true if this turn continues a turn a previous host was running when it stopped
 */
public record Turn(String taskId, String agentId, int number, String sessionId, TaskMessage message,
                   Map<String, Object> options, String workDir, boolean resumed) {
}
