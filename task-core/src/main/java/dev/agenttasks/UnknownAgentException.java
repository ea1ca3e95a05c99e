package dev.agenttasks;

/** The runner does not know the agent id of a request. Thrown by {@code create} before anything is written. */
public class UnknownAgentException extends InvalidRequestException {
    private static final long serialVersionUID = 1L;
    /** @serial the unknown agent id */
    private final String agentId;

    /** @param agentId the unknown agent id */
    public UnknownAgentException(String agentId) {
        super("agent_id", "unknown agent: " + agentId);
        this.agentId = agentId;
    }

    /** @return the unknown agent id */
    public String agentId() {
        return agentId;
    }
}
