package dev.agenttasks.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.service.tool.ToolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The tool side of a turn: works through the open tool calls of the last assistant message in order,
 * running tools, asking the user ({@value LangChain4jAgentRunner#ASK_USER}) and asking for approval,
 * and records every step through a {@link Recorder}, so the conversation rebuilt from the log is the
 * one the turn used.
 */
final class ToolCalls {
    private static final Logger log = LoggerFactory.getLogger(ToolCalls.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Set<String> APPROVE = Set.of("approve", "approved", "yes", "y", "ok", "allow");

    private final Map<String, ToolExecutor> executors;
    private final Set<String> needApproval;
    private final boolean askUser;

    ToolCalls(Map<String, ToolExecutor> executors, Set<String> needApproval, boolean askUser) {
        this.executors = Map.copyOf(executors);
        this.needApproval = Set.copyOf(needApproval);
        this.askUser = askUser;
    }

    /** Works through the open tool calls in order; returns a pause if one must wait for the user. */
    TurnResult resolve(Turn turn, Recorder rec, Conversation conv) throws Exception {
        for (Conversation.OpenCall call : conv.openCalls()) {
            LangChain4jAgentRunner.checkCancelled(rec.context);
            ToolExecutionRequest r = call.request;
            String name = r.name();
            if (askUser && LangChain4jAgentRunner.ASK_USER.equals(name)) {
                Map<String, Object> question = askUserQuestion(r);
                if (question == null) {
                    announce(rec, call, false);
                    rec.result(r, "error: ask_user needs a \"question\" string argument", AgentEvents.OUTCOME_ERROR);
                    continue;
                }
                announce(rec, call, false);
                UserMessage answer = conv.nextAnswer();
                if (answer == null) {
                    return TurnResult.awaitingInput(question);
                }
                rec.result(r, Conversation.text(answer), AgentEvents.OUTCOME_ANSWERED);
            } else if (needApproval.contains(name)) {
                if (call.state == Conversation.CallState.APPROVED) {
                    rec.result(r, interrupted(), AgentEvents.OUTCOME_INTERRUPTED);
                    continue;
                }
                if (call.state == Conversation.CallState.DENIED) {
                    rec.result(r, "denied by the user", AgentEvents.OUTCOME_DENIED);
                    continue;
                }
                announce(rec, call, true);
                UserMessage answer = conv.nextAnswer();
                if (answer == null) {
                    return TurnResult.awaitingInput(approvalQuestion(r));
                }
                String reply = Conversation.text(answer).strip();
                boolean approved = APPROVE.contains(normalise(reply));
                Map<String, Object> decision = new LinkedHashMap<>();
                decision.put("id", r.id());
                decision.put("name", name);
                decision.put("approved", approved);
                decision.put("reply", reply);
                rec.record(AgentEvents.TOOL_APPROVAL, decision);
                if (approved) {
                    execute(turn, rec, r);
                } else {
                    String reason = normalise(reply).equals("deny") || normalise(reply).equals("no")
                            || reply.isEmpty() ? "" : ": " + reply;
                    rec.result(r, "denied by the user" + reason, AgentEvents.OUTCOME_DENIED);
                }
            } else if (call.state == Conversation.CallState.NEW) {
                announce(rec, call, false);
                execute(turn, rec, r);
            } else {
                rec.result(r, interrupted(), AgentEvents.OUTCOME_INTERRUPTED);
            }
        }
        return null;
    }

    private static String interrupted() {
        return "error: the host stopped while this tool was running; it was not run again";
    }

    private static String normalise(String reply) {
        String s = reply.strip().toLowerCase(Locale.ROOT);
        while (!s.isEmpty() && ".!".indexOf(s.charAt(s.length() - 1)) >= 0) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    private static void announce(Recorder rec, Conversation.OpenCall call, boolean approval) {
        if (call.state != Conversation.CallState.NEW) {
            return;
        }
        ToolExecutionRequest r = call.request;
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("id", r.id());
        data.put("name", r.name());
        data.put("arguments", r.arguments());
        if (approval) {
            data.put("approval", "required");
        }
        rec.record(AgentEvents.TOOL_CALL, data);
    }

    private void execute(Turn turn, Recorder rec, ToolExecutionRequest r) throws Exception {
        ToolExecutor executor = executors.get(r.name());
        if (executor == null) {
            rec.result(r, "error: there is no tool named " + r.name(), AgentEvents.OUTCOME_ERROR);
            return;
        }
        String result;
        String outcome = AgentEvents.OUTCOME_OK;
        try {
            result = executor.execute(r, turn.taskId());
        } catch (RuntimeException e) {
            LangChain4jAgentRunner.checkCancelled(rec.context);
            log.info("task {}: tool {} failed: {}", turn.taskId(), r.name(), e.toString());
            Throwable cause = e.getCause() != null && e.getMessage() == null ? e.getCause() : e;
            result = "error: " + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage());
            outcome = AgentEvents.OUTCOME_ERROR;
        }
        LangChain4jAgentRunner.checkCancelled(rec.context);
        rec.result(r, result == null ? "" : result, outcome);
    }

    private Map<String, Object> askUserQuestion(ToolExecutionRequest r) {
        JsonNode args;
        try {
            args = MAPPER.readTree(r.arguments() == null || r.arguments().isBlank() ? "{}" : r.arguments());
        } catch (Exception e) {
            return null;
        }
        JsonNode q = args == null ? null : args.get("question");
        if (q == null || !q.isTextual() || q.asText().isBlank()) {
            return null;
        }
        Map<String, Object> question = new LinkedHashMap<>();
        question.put("type", "ask_user");
        question.put("question", q.asText());
        JsonNode options = args.get("options");
        if (options != null && options.isArray() && !options.isEmpty()) {
            List<Object> opts = new ArrayList<>();
            options.forEach(o -> opts.add(o.asText()));
            question.put("options", opts);
        }
        question.put("tool_call_id", r.id());
        return question;
    }

    private static Map<String, Object> approvalQuestion(ToolExecutionRequest r) {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("type", "approval");
        q.put("question", "Allow the call " + r.name() + "(" + r.arguments() + ")? Reply approve or deny.");
        q.put("tool", r.name());
        q.put("arguments", r.arguments());
        q.put("tool_call_id", r.id());
        q.put("options", List.of("approve", "deny"));
        return q;
    }

    /** Emits an event and applies it to the conversation, so live memory equals rebuilt memory. */
    static final class Recorder {
        final TurnContext context;
        final Conversation conversation;
        private final int maxToolResultChars;

        Recorder(TurnContext context, Conversation conversation, int maxToolResultChars) {
            this.context = context;
            this.conversation = conversation;
            this.maxToolResultChars = maxToolResultChars;
        }

        void record(String type, Map<String, Object> data) {
            context.emit(type, data);
            conversation.apply(type, data);
        }

        void result(ToolExecutionRequest r, String result, String outcome) {
            String text = result.length() > maxToolResultChars
                    ? result.substring(0, maxToolResultChars) + "… [truncated]" : result;
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("id", r.id());
            data.put("name", r.name());
            data.put("result", text);
            data.put("outcome", outcome);
            record(AgentEvents.TOOL_RESULT, data);
        }
    }
}
