package dev.agenttasks.examples;

import dev.agenttasks.langchain4j.LangChain4jAgentRunner;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Builds the runner of an {@code openai} catalog entry: a {@link LangChain4jAgentRunner} on LangChain4j's
 * OpenAI streaming client, pointed at the entry's base URL, with the built-in {@code ask_user} tool.
 */
public final class OpenAiAgents {

    /** How long one model call may take before it fails (as a transient timeout). */
    public static final Duration MODEL_TIMEOUT = Duration.ofMinutes(5);

    private OpenAiAgents() {
    }

    /**
     * @param entry an entry of kind {@link AgentCatalog.Kind#OPENAI}
     * @param env   reads an environment variable ({@code System::getenv} in the host)
     * @return its runner; if the API key variable is not set, a runner whose turns fail saying so
     */
    public static AgentRunner runner(AgentCatalog.Entry entry, UnaryOperator<String> env) {
        AgentCatalog.OpenAiSettings s = Objects.requireNonNull(entry.openAi(), "not an openai entry");
        AgentDescriptor d = entry.descriptor();
        String key = s.apiKeyEnv() == null ? null : env.apply(s.apiKeyEnv());
        if (s.apiKeyEnv() != null && (key == null || key.isBlank())) {
            return new MissingKey(d, "environment variable " + s.apiKeyEnv() + " is not set; agent " + d.id()
                    + " reads its API key from it");
        }
        OpenAiStreamingChatModel model = OpenAiStreamingChatModel.builder()
                .baseUrl(s.baseUrl())
                .apiKey(key == null ? "none" : key)
                .modelName(d.model())
                .timeout(MODEL_TIMEOUT)
                .build();
        return LangChain4jAgentRunner.builder(d).model(model).systemPrompt(s.systemPrompt()).build();
    }

    /** The agent is listed, but every turn fails with a message saying which variable to set. */
    private record MissingKey(AgentDescriptor descriptor, String message) implements AgentRunner {
        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return descriptor.id().equals(agentId) ? Optional.of(descriptor) : Optional.empty();
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext context) {
            throw new IllegalStateException(message);
        }
    }
}
