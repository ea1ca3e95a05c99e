package dev.agenttasks.langchain4j;

import dev.agenttasks.TaskEvent;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.Content;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;

/**
 * The chat memory of one task, derived from its event log and nothing else. The runner rebuilds it at
 * the start of every turn by {@linkplain #apply applying} the task's events in order, and keeps it up
 * to date during the turn by applying each event it emits, so the memory a live turn uses is exactly
 * the memory a restarted host rebuilds.
 *
 * <p>Besides the messages it tracks the tool calls of the last assistant message that have no result
 * yet, with how far each got, and the user messages that arrived while such calls were open (they are
 * answers: to {@code ask_user}, or approve/deny replies).
 */
final class Conversation {

    /** How far a tool call of the last assistant message got, as the log records it. */
    enum CallState {
        /** Requested by the model, nothing done yet. */
        NEW,
        /** {@code tool_call} recorded: running, or waiting for the user (ask_user, approval). */
        ANNOUNCED,
        /** The user approved it ({@code tool_approval}); it may have started running. */
        APPROVED,
        /** The user denied it ({@code tool_approval}). */
        DENIED
    }

    /** An open tool call. */
    static final class OpenCall {
        final ToolExecutionRequest request;
        CallState state = CallState.NEW;

        OpenCall(ToolExecutionRequest request) {
            this.request = request;
        }
    }

    private final List<ChatMessage> messages = new ArrayList<>();
    private final List<OpenCall> open = new ArrayList<>();
    private final Deque<UserMessage> answers = new ArrayDeque<>();
    private boolean hasUserMessage;

    Conversation(String systemPrompt) {
        if (systemPrompt != null && !systemPrompt.isBlank()) {
            messages.add(SystemMessage.from(systemPrompt));
        }
    }

    /** @return the messages to send to the model (a copy) */
    List<ChatMessage> messages() {
        return List.copyOf(messages);
    }

    /** @return the open tool calls, in the order the model asked for them (a copy) */
    List<OpenCall> openCalls() {
        return List.copyOf(open);
    }

    /** @return the oldest answer not yet used, or {@code null} */
    UserMessage nextAnswer() {
        return answers.peekFirst();
    }

    /** @return true once the log holds a user message */
    boolean hasUserMessage() {
        return hasUserMessage;
    }

    /**
     * Applies one event of the task's log. Events of other types (status, text deltas, anything a host
     * emits) do not change the memory.
     *
     * @param type the event type
     * @param data its data
     */
    void apply(String type, Map<String, Object> data) {
        switch (type) {
            case AgentEvents.USER_MESSAGE -> {
                UserMessage m = userMessage(data);
                if (m == null) {
                    return;
                }
                hasUserMessage = true;
                if (open.isEmpty()) {
                    messages.add(m);
                } else {
                    answers.addLast(m);
                }
            }
            case AgentEvents.ASSISTANT_MESSAGE -> {
                flushAnswers();
                List<ToolExecutionRequest> calls = new ArrayList<>();
                Object list = data.get("tool_calls");
                if (list instanceof List<?> l) {
                    for (Object o : l) {
                        if (o instanceof Map<?, ?> c) {
                            calls.add(ToolExecutionRequest.builder().id(str(c.get("id"))).name(str(c.get("name")))
                                    .arguments(str(c.get("arguments"))).build());
                        }
                    }
                }
                String text = str(data.get("text"));
                messages.add(calls.isEmpty() ? AiMessage.from(text == null ? "" : text)
                        : AiMessage.from(text, calls));
                open.clear();
                for (ToolExecutionRequest r : calls) {
                    open.add(new OpenCall(r));
                }
            }
            case AgentEvents.TOOL_CALL -> {
                OpenCall c = find(data);
                if (c != null && c.state == CallState.NEW) {
                    c.state = CallState.ANNOUNCED;
                }
            }
            case AgentEvents.TOOL_APPROVAL -> {
                OpenCall c = find(data);
                if (c != null) {
                    c.state = Boolean.TRUE.equals(data.get("approved")) ? CallState.APPROVED : CallState.DENIED;
                    answers.pollFirst();
                }
            }
            case AgentEvents.TOOL_RESULT -> {
                OpenCall c = find(data);
                if (c == null) {
                    return;
                }
                messages.add(ToolExecutionResultMessage.from(c.request.id(), c.request.name(),
                        String.valueOf(data.getOrDefault("result", ""))));
                if (AgentEvents.OUTCOME_ANSWERED.equals(data.get("outcome"))) {
                    answers.pollFirst();
                }
                open.remove(c);
                if (open.isEmpty()) {
                    flushAnswers();
                }
            }
            default -> {
                // not part of the conversation
            }
        }
    }

    /** Replays a log page by page. */
    void applyAll(Iterable<TaskEvent> events) {
        for (TaskEvent e : events) {
            apply(e.type(), e.data());
        }
    }

    /** User messages left over once every call has its result are ordinary messages. */
    private void flushAnswers() {
        while (!answers.isEmpty()) {
            messages.add(answers.pollFirst());
        }
    }

    private OpenCall find(Map<String, Object> data) {
        Object id = data.get("id");
        for (OpenCall c : open) {
            if (c.request.id() != null && c.request.id().equals(id)) {
                return c;
            }
        }
        return null;
    }

    /** The text of a user message (its text, or its text blocks joined), for tool results. */
    static String text(UserMessage m) {
        if (m.hasSingleText()) {
            return m.singleText();
        }
        StringBuilder sb = new StringBuilder();
        for (Content c : m.contents()) {
            if (c instanceof TextContent t) {
                if (sb.length() > 0) {
                    sb.append('\n');
                }
                sb.append(t.text());
            }
        }
        return sb.toString();
    }

    /** A {@code user_message} event as a LangChain4j message: text, or text and image-URL blocks. */
    private static UserMessage userMessage(Map<String, Object> data) {
        Object text = data.get("text");
        if (text instanceof String s) {
            return UserMessage.from(s);
        }
        Object content = data.get("content");
        if (!(content instanceof List<?> blocks)) {
            return null;
        }
        List<Content> parts = new ArrayList<>();
        for (Object o : blocks) {
            if (!(o instanceof Map<?, ?> b)) {
                continue;
            }
            Object kind = b.get("type");
            if ("text".equals(kind) && b.get("text") instanceof String t) {
                parts.add(TextContent.from(t));
            } else if ("image".equals(kind) || "image_url".equals(kind)) {
                String url = imageUrl(b);
                if (url != null) {
                    parts.add(ImageContent.from(url));
                }
            }
        }
        return parts.isEmpty() ? null : UserMessage.from(parts);
    }

    private static String imageUrl(Map<?, ?> block) {
        Object url = block.get("url");
        if (url instanceof String s) {
            return s;
        }
        Object nested = block.get("image_url");
        if (nested instanceof String s) {
            return s;
        }
        if (nested instanceof Map<?, ?> m && m.get("url") instanceof String s) {
            return s;
        }
        return null;
    }

    private static String str(Object o) {
        return o == null ? null : o.toString();
    }
}
