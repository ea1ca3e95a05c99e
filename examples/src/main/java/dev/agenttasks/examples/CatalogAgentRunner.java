package dev.agenttasks.examples;

import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The host's {@link AgentRunner}: resolves agent ids through the catalog and hands each turn to that agent's runner. */
public final class CatalogAgentRunner implements AgentRunner {

    private final Map<String, AgentRunner> runners = new LinkedHashMap<>();
    private final Map<String, AgentDescriptor> descriptors = new LinkedHashMap<>();

    /**
     * @param catalog        the agents
     * @param demoTokenDelay the pause between tokens of demo agents
     */
    public CatalogAgentRunner(AgentCatalog catalog, Duration demoTokenDelay) {
        for (AgentCatalog.Entry e : catalog.entries()) {
            AgentDescriptor d = e.descriptor();
            descriptors.put(d.id(), d);
            runners.put(d.id(), switch (e.kind()) {
                case DEMO -> new DemoAgentRunner(d, demoTokenDelay);
                case PROCESS -> new ProcessAgentRunner(d, e.command(), e.sessionArg());
                case OPENAI -> OpenAiAgents.runner(e, System::getenv);
            });
        }
    }

    @Override
    public Optional<AgentDescriptor> describe(String agentId) {
        return Optional.ofNullable(agentId == null ? null : descriptors.get(agentId));
    }

    @Override
    public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
        AgentRunner runner = runners.get(turn.agentId());
        if (runner == null) {
            throw new IllegalStateException("agent " + turn.agentId() + " is no longer in the catalog");
        }
        return runner.runTurn(turn, context);
    }
}
