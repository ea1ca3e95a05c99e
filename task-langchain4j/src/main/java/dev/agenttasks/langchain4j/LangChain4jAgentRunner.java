package dev.agenttasks.langchain4j;

import dev.agenttasks.TaskEvent;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.agent.tool.ToolSpecifications;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonArraySchema;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.request.json.JsonStringSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.service.tool.DefaultToolExecutor;
import dev.langchain4j.service.tool.ToolExecutor;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * An {@link AgentRunner} for one agent built on a LangChain4j {@link StreamingChatModel}: a system
 * prompt, tools, and human-in-the-loop, with the conversation kept in the task's own event log.
 *
 * <pre>{@code
 * StreamingChatModel model = OpenAiStreamingChatModel.builder()
 *         .baseUrl("https://api.openai.com/v1").apiKey(System.getenv("OPENAI_API_KEY"))
 *         .modelName("gpt-4o-mini").build();
 * AgentRunner runner = LangChain4jAgentRunner.builder(new AgentDescriptor("assistant", "Assistant", "gpt-4o-mini"))
 *         .model(model)
 *         .systemPrompt("You are a helpful assistant.")
 *         .tools(new WeatherTools())            // objects with @Tool methods
 *         .requireApproval("delete_file")       // these calls wait for the user's approve/deny
 *         .build();
 * }</pre>
 *
 * <p><b>A turn.</b> The runner rebuilds the conversation from the task's events
 * ({@link TurnContext#events}), then calls the model, streaming its tokens as {@code text_delta}
 * events. When the model asks for tools, each call is recorded ({@code tool_call}), run, and its result
 * recorded ({@code tool_result}); then the model is called again with the results. A response without
 * tool calls completes the turn with {@code {"text": answer}}. The event types are listed in
 * {@link AgentEvents}.
 *
 * <p><b>Human in the loop.</b> A built-in {@value #ASK_USER} tool (arguments {@code question}, optional
 * {@code options}) ends the turn awaiting input with
 * {@code {"type": "ask_user", "question", "options"?, "tool_call_id"}}; the user's next message becomes
 * the call's result and the conversation continues. A call of a tool named in
 * {@link Builder#requireApproval} ends the turn awaiting input with
 * {@code {"type": "approval", "question", "tool", "arguments", "tool_call_id", "options": ["approve", "deny"]}};
 * a reply of {@code approve} (or {@code approved}, {@code yes}, {@code y}, {@code ok}, {@code allow},
 * case-insensitive) runs the tool, anything else denies it and the model is told so, with the reply as
 * the reason. No thread is held while waiting, and nothing of the conversation lives only in memory: a
 * follow-up after a host restart continues where the log left off.
 *
 * <p><b>At most once.</b> A tool whose {@code tool_call} is in the log without a result (the host stopped
 * while it ran) is not run again; the model is told it was interrupted.
 *
 * <p><b>Cancel and timeout.</b> Both interrupt the turn; the runner then closes the model's HTTP stream
 * (at once if a chunk has arrived, otherwise when the first one does — LangChain4j offers no way to
 * abort a request before that) and stops.
 *
 * <p><b>Errors and retries.</b> A failed model call throws {@link ModelCallException}, whose message
 * becomes the task's error (HTTP status and the provider's message). It is a
 * {@link dev.agenttasks.spi.TurnFailure}: rate limits (429), 5xx answers, timeouts and connection
 * failures are transient, so the manager retries the turn under its {@link dev.agenttasks.RetryPolicy}
 * (a {@code retry} event per failed attempt). A retried turn rebuilds the conversation from the log like
 * any turn: tool calls already answered are not run again, and tokens streamed by the failed attempt
 * ({@code text_delta}) are not part of the conversation.
 *
 * <p>Instances are immutable and thread-safe; one runner serves any number of tasks at once.
 */
public final class LangChain4jAgentRunner implements AgentRunner {

    /** The name of the built-in tool the model calls to ask the user something. */
    public static final String ASK_USER = "ask_user";
    /** The most model calls in one turn unless the builder sets another limit. */
    public static final int DEFAULT_MAX_MODEL_CALLS = 25;
    /** The longest tool result (in characters) passed to the model unless the builder sets another. */
    public static final int DEFAULT_MAX_TOOL_RESULT_CHARS = 32_000;

    private static final int PAGE = 1000;
    private static final long POLL_MILLIS = 100;

    private final AgentDescriptor descriptor;
    private final StreamingChatModel model;
    private final String systemPrompt;
    private final List<ToolSpecification> specifications;
    private final ToolCalls tools;
    private final int maxModelCalls;
    private final int maxToolResultChars;

    private LangChain4jAgentRunner(Builder b) {
        this.descriptor = b.descriptor;
        this.model = b.model;
        this.systemPrompt = b.systemPrompt;
        List<ToolSpecification> specs = new ArrayList<>(b.specifications.values());
        if (b.askUser) {
            specs.add(askUserSpecification());
        }
        this.specifications = List.copyOf(specs);
        this.tools = new ToolCalls(b.executors, b.needApproval, b.askUser);
        this.maxModelCalls = b.maxModelCalls;
        this.maxToolResultChars = b.maxToolResultChars;
    }

    /**
     * @param descriptor the agent this runner runs (id, display name, model name)
     * @return a builder
     */
    public static Builder builder(AgentDescriptor descriptor) {
        return new Builder(descriptor);
    }

    @Override
    public Optional<AgentDescriptor> describe(String agentId) {
        return descriptor.id().equals(agentId) ? Optional.of(descriptor) : Optional.empty();
    }

    /** @return the tools the model is offered, {@value #ASK_USER} included if enabled */
    public List<ToolSpecification> toolSpecifications() {
        return specifications;
    }

    @Override
    public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
        Conversation conversation = rebuild(context);
        ToolCalls.Recorder recorder = new ToolCalls.Recorder(context, conversation, maxToolResultChars);
        int calls = 0;
        while (true) {
            TurnResult pause = tools.resolve(turn, recorder, conversation);
            if (pause != null) {
                return pause;
            }
            checkCancelled(context);
            if (++calls > maxModelCalls) {
                throw new IllegalStateException("the model was still calling tools after " + maxModelCalls
                        + " model calls in one turn (the runner's maxModelCalls limit)");
            }
            AiMessage answer = call(context, conversation);
            List<Map<String, Object>> toolCalls = new ArrayList<>();
            int i = 0;
            for (ToolExecutionRequest r : answer.toolExecutionRequests()) {
                Map<String, Object> c = new LinkedHashMap<>();
                String id = r.id() == null || r.id().isBlank() ? "call_" + turn.number() + "_" + calls + "_" + i : r.id();
                c.put("id", id);
                c.put("name", r.name());
                c.put("arguments", r.arguments() == null || r.arguments().isBlank() ? "{}" : r.arguments());
                toolCalls.add(c);
                i++;
            }
            Map<String, Object> message = new LinkedHashMap<>();
            if (answer.text() != null && !answer.text().isEmpty()) {
                message.put("text", answer.text());
            }
            if (!toolCalls.isEmpty()) {
                message.put("tool_calls", toolCalls);
            }
            recorder.record(AgentEvents.ASSISTANT_MESSAGE, message);
            if (toolCalls.isEmpty()) {
                Map<String, Object> result = new LinkedHashMap<>();
                result.put("text", answer.text());
                return TurnResult.completed(result);
            }
        }
    }


    /** One streaming model call; returns the complete response or throws. */
    private AiMessage call(TurnContext context, Conversation conversation) throws Exception {
        ChatRequest.Builder request = ChatRequest.builder().messages(conversation.messages());
        if (!specifications.isEmpty()) {
            request.toolSpecifications(specifications);
        }
        StreamingCall call = new StreamingCall(token -> context.emit(AgentEvents.TEXT_DELTA, Map.of("text", token)));
        try {
            model.chat(request.build(), call);
        } catch (RuntimeException e) {
            throw ModelErrors.classify(e);
        }
        ChatResponse response;
        while (true) {
            if (context.isCancelled()) {
                call.cancel();
                throw new CancellationException("turn cancelled while the model was answering");
            }
            try {
                response = call.result.get(POLL_MILLIS, TimeUnit.MILLISECONDS);
                break;
            } catch (TimeoutException e) {
                // poll the cancel flag again
            } catch (InterruptedException e) {
                call.cancel();
                throw e;
            } catch (CancellationException e) {
                throw new CancellationException("turn cancelled while the model was answering");
            } catch (ExecutionException e) {
                checkCancelled(context);
                throw ModelErrors.classify(e.getCause());
            }
        }
        AiMessage ai = response == null ? null : response.aiMessage();
        boolean noText = ai == null || ai.text() == null || ai.text().isBlank();
        if (ai == null || noText && !ai.hasToolExecutionRequests()) {
            throw new ModelCallException("model call failed: the model returned an empty answer"
                    + (response == null || response.finishReason() == null ? ""
                    : " (finish reason " + response.finishReason() + ")"), -1, null, false, null);
        }
        return ai;
    }

    static void checkCancelled(TurnContext context) {
        if (context.isCancelled()) {
            throw new CancellationException("turn cancelled");
        }
    }

    private Conversation rebuild(TurnContext context) {
        Conversation conversation = new Conversation(systemPrompt);
        long after = 0;
        while (true) {
            List<TaskEvent> page = context.events(after, PAGE);
            if (page.isEmpty()) {
                return conversation;
            }
            conversation.applyAll(page);
            after = page.get(page.size() - 1).seq();
        }
    }

    private static ToolSpecification askUserSpecification() {
        return ToolSpecification.builder()
                .name(ASK_USER)
                .description("Ask the user a question and wait for the answer. Use it when you need information, "
                        + "a choice or a confirmation only the user can give.")
                .parameters(JsonObjectSchema.builder()
                        .addStringProperty("question", "The question, in one or two sentences")
                        .addProperty("options", JsonArraySchema.builder()
                                .description("Answers the user can pick from, if the question has a fixed set")
                                .items(new JsonStringSchema()).build())
                        .required("question")
                        .build())
                .build();
    }

    /** Builds a {@link LangChain4jAgentRunner}; {@link #model} is required. */
    public static final class Builder {
        private final AgentDescriptor descriptor;
        private StreamingChatModel model;
        private String systemPrompt;
        private final Map<String, ToolSpecification> specifications = new LinkedHashMap<>();
        private final Map<String, ToolExecutor> executors = new LinkedHashMap<>();
        private final Set<String> needApproval = new LinkedHashSet<>();
        private boolean askUser = true;
        private int maxModelCalls = DEFAULT_MAX_MODEL_CALLS;
        private int maxToolResultChars = DEFAULT_MAX_TOOL_RESULT_CHARS;

        private Builder(AgentDescriptor descriptor) {
            this.descriptor = Objects.requireNonNull(descriptor, "descriptor can not be null");
        }

        /**
         * @param model the streaming chat model, for example {@code OpenAiStreamingChatModel}
         * @return this builder
         */
        public Builder model(StreamingChatModel model) {
            this.model = Objects.requireNonNull(model, "model can not be null");
            return this;
        }

        /**
         * @param systemPrompt the system message sent first in every model call, or {@code null} for none
         * @return this builder
         */
        public Builder systemPrompt(String systemPrompt) {
            this.systemPrompt = systemPrompt;
            return this;
        }

        /**
         * Adds every {@link Tool @Tool} method of the given objects as a tool.
         *
         * @param toolObjects objects with {@code @Tool} methods
         * @return this builder
         * @throws IllegalArgumentException if an object has no {@code @Tool} method or a name is taken
         */
        public Builder tools(Object... toolObjects) {
            for (Object o : toolObjects) {
                Objects.requireNonNull(o, "tool object can not be null");
                boolean any = false;
                for (Method m : o.getClass().getDeclaredMethods()) {
                    if (m.isAnnotationPresent(Tool.class)) {
                        tool(ToolSpecifications.toolSpecificationFrom(m), new DefaultToolExecutor(o, m));
                        any = true;
                    }
                }
                if (!any) {
                    throw new IllegalArgumentException(o.getClass().getName() + " has no @Tool method");
                }
            }
            return this;
        }

        /**
         * Adds a tool described by a specification and run by an executor.
         *
         * @param specification the tool's name, description and parameters
         * @param executor      runs a call; gets the task id as its memory id
         * @return this builder
         * @throws IllegalArgumentException if the name is taken or is {@value #ASK_USER}
         */
        public Builder tool(ToolSpecification specification, ToolExecutor executor) {
            Objects.requireNonNull(specification, "specification can not be null");
            Objects.requireNonNull(executor, "executor can not be null");
            String name = specification.name();
            if (ASK_USER.equals(name)) {
                throw new IllegalArgumentException(ASK_USER + " is the built-in tool; disable it with askUser(false) first");
            }
            if (specifications.putIfAbsent(name, specification) != null) {
                throw new IllegalArgumentException("two tools are named " + name);
            }
            executors.put(name, executor);
            return this;
        }

        /**
         * Marks tools whose calls wait for the user's approval before they run.
         *
         * @param toolNames names of tools added to this builder (checked at {@link #build()})
         * @return this builder
         */
        public Builder requireApproval(String... toolNames) {
            needApproval.addAll(List.of(toolNames));
            return this;
        }

        /**
         * @param toolNames names of tools that need approval
         * @return this builder
         */
        public Builder requireApproval(Collection<String> toolNames) {
            needApproval.addAll(toolNames);
            return this;
        }

        /**
         * @param enabled whether the model gets the built-in {@value #ASK_USER} tool (default true)
         * @return this builder
         */
        public Builder askUser(boolean enabled) {
            this.askUser = enabled;
            return this;
        }

        /**
         * @param max the most model calls in one turn (a guard against endless tool loops), at least 1
         * @return this builder
         */
        public Builder maxModelCalls(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxModelCalls must be at least 1: " + max);
            }
            this.maxModelCalls = max;
            return this;
        }

        /**
         * @param max the longest tool result passed to the model and recorded; longer ones are cut, at least 100
         * @return this builder
         */
        public Builder maxToolResultChars(int max) {
            if (max < 100) {
                throw new IllegalArgumentException("maxToolResultChars must be at least 100: " + max);
            }
            this.maxToolResultChars = max;
            return this;
        }

        /**
         * @return the runner
         * @throws IllegalStateException if no model was set or an approval names an unknown tool
         */
        public LangChain4jAgentRunner build() {
            if (model == null) {
                throw new IllegalStateException("a model is required");
            }
            for (String name : needApproval) {
                if (!specifications.containsKey(name)) {
                    throw new IllegalStateException("requireApproval names an unknown tool: " + name);
                }
            }
            if (askUser && specifications.containsKey(ASK_USER)) {
                throw new IllegalStateException(ASK_USER + " is taken by the built-in tool");
            }
            return new LangChain4jAgentRunner(this);
        }
    }
}
