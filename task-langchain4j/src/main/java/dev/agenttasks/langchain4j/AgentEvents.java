package dev.agenttasks.langchain4j;

/**
 * The event types (and a few data values) {@link LangChain4jAgentRunner} writes to a task's log. The
 * log is the agent's memory: the runner rebuilds the conversation from these events at the start of
 * every turn, so they must stay in the log for as long as the task may continue.
 *
 * <ul>
 *   <li>{@value #TEXT_DELTA} {@code {"text"}}: a piece of the model's answer as it streams (display only);</li>
 *   <li>{@value #ASSISTANT_MESSAGE} {@code {"text"?, "tool_calls"?: [{"id", "name", "arguments"}]}}: the
 *       model's complete response, recorded when its stream ends ({@code arguments} is the JSON text the
 *       model produced);</li>
 *   <li>{@value #TOOL_CALL} {@code {"id", "name", "arguments", "approval"?: "required"}}: a tool call is
 *       being run, or is waiting for the user ({@code ask_user}, or a tool that needs approval);</li>
 *   <li>{@value #TOOL_APPROVAL} {@code {"id", "name", "approved", "reply"}}: the user's decision on a
 *       call that needed approval;</li>
 *   <li>{@value #TOOL_RESULT} {@code {"id", "name", "result", "outcome"}}: what the model is told the call
 *       returned; {@code outcome} is one of {@value #OUTCOME_OK}, {@value #OUTCOME_ERROR},
 *       {@value #OUTCOME_ANSWERED} (the user's answer to {@code ask_user}), {@value #OUTCOME_DENIED},
 *       {@value #OUTCOME_INTERRUPTED} (the host stopped while the tool ran; it is not run again).</li>
 * </ul>
 * The engine's {@value #USER_MESSAGE} events are the user's side of the conversation. A user message
 * that arrives while a tool call waits for the user is the answer to that call, not a new message.
 */
public final class AgentEvents {

    /** The engine's event for a user message (the request's message, then follow-ups). */
    public static final String USER_MESSAGE = "user_message";
    /** A streamed piece of the answer. */
    public static final String TEXT_DELTA = "text_delta";
    /** The model's complete response, the memory record of it. */
    public static final String ASSISTANT_MESSAGE = "assistant_message";
    /** A tool call being run or waiting for the user. */
    public static final String TOOL_CALL = "tool_call";
    /** The user's approve/deny decision on a tool call. */
    public static final String TOOL_APPROVAL = "tool_approval";
    /** The result of a tool call. */
    public static final String TOOL_RESULT = "tool_result";

    /** {@code outcome} of a tool that ran and returned. */
    public static final String OUTCOME_OK = "ok";
    /** {@code outcome} of a tool that threw, or an unknown tool or bad arguments. */
    public static final String OUTCOME_ERROR = "error";
    /** {@code outcome} of an {@code ask_user} call the user answered. */
    public static final String OUTCOME_ANSWERED = "answered";
    /** {@code outcome} of a call the user denied. */
    public static final String OUTCOME_DENIED = "denied";
    /** {@code outcome} of a call that was running when its host stopped. */
    public static final String OUTCOME_INTERRUPTED = "interrupted";

    private AgentEvents() {
    }
}
