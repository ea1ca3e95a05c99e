package dev.agenttasks.spi;

import java.util.Objects;

/**
 * What the manager needs to know of an agent.
 *
 * @param id    the agent id
 * @param name  a display name, used in default titles ("Task with &lt;name&gt;")
 * @param model the model the agent uses, or {@code null}
 */
public record AgentDescriptor(String id, String name, String model) {
    /**
     * Requires id and name.
     *
     * @param id the agent id
     * @param name a display name, used in default titles ("Task with &lt;name&gt;")
     * @param model the model the agent uses, or {@code null}
     */
    public AgentDescriptor {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
    }
}
