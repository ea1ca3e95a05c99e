package dev.agenttasks.testkit;

import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnResult;
import dev.agenttasks.testkit.ScriptedAgentRunner.TurnScript;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The agents of a {@link ScriptedAgentRunner} and its scripts: a default, one per agent, one per agent and turn
 * number, and ones chosen by a predicate, the latest first; {@link #resolve(Turn)} picks a turn's. Thread-safe.
 */
final class ScriptTable {

    private final Map<String, AgentDescriptor> agents = new LinkedHashMap<>();
    private final Map<String, TurnScript> perAgent = new LinkedHashMap<>();
    private final Map<String, TurnScript> perAgentTurn = new LinkedHashMap<>();
    private final List<Map.Entry<Predicate<Turn>, TurnScript>> conditional = new ArrayList<>();
    private TurnScript defaultScript = (turn, context) -> TurnResult.completed();

    synchronized void agent(String id, String name, String model) {
        agents.put(id, new AgentDescriptor(id, name, model));
    }

    synchronized Optional<AgentDescriptor> agent(String id) {
        return Optional.ofNullable(agents.get(id));
    }

    synchronized void defaultScript(TurnScript script) {
        defaultScript = Objects.requireNonNull(script, "script can not be null");
    }

    synchronized void script(String agentId, TurnScript script) {
        perAgent.put(agentId, Objects.requireNonNull(script, "script can not be null"));
    }

    synchronized void script(String agentId, int number, TurnScript script) {
        perAgentTurn.put(agentId + "#" + number, Objects.requireNonNull(script, "script can not be null"));
    }

    synchronized void scriptWhen(Predicate<Turn> when, TurnScript script) {
        conditional.add(0, Map.entry(Objects.requireNonNull(when, "when can not be null"),
                Objects.requireNonNull(script, "script can not be null")));
    }

    synchronized TurnScript resolve(Turn turn) {
        for (Map.Entry<Predicate<Turn>, TurnScript> e : conditional) {
            if (e.getKey().test(turn)) {
                return e.getValue();
            }
        }
        TurnScript s = perAgentTurn.get(turn.agentId() + "#" + turn.number());
        if (s == null) {
            s = perAgent.get(turn.agentId());
        }
        return s != null ? s : defaultScript;
    }
}
