package dev.agenttasks.postgres.hosts;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.RecoveryPolicy;
import dev.agenttasks.Task;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.postgres.PostgresTaskStore;
import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A host in a child JVM, for the tests that kill and stop hosts: a {@link TaskManager} on a PostgreSQL store with
 * a runner whose turns tick. Arguments: {@code url user password schema hostId slots heartbeatMillis
 * deadAfterMillis policy(fail|resume)}. Prints {@code READY} when the manager is up, then reads commands on stdin:
 * <ul>
 *   <li>{@code create <ticks> <tickMillis> [key]} → prints {@code CREATED <taskId>}</li>
 *   <li>{@code quit} → closes the manager and exits 0</li>
 * </ul>
 * A turn of agent {@value #AGENT} emits {@code turn {host, phase: start, number, resumed}}, then {@code ticks}
 * events {@code tick {host, i}} with a pause of {@code tickMillis} after each (simulated work, cut short by
 * cancellation), then {@code turn {host, phase: end}}, and completes.
 */
public final class HostMain {

    /** The one agent id. */
    public static final String AGENT = "ticker";

    private HostMain() {
    }

    /**
     * @param args see the class comment
     * @throws Exception if the host cannot start
     */
    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        String password = "-".equals(args[2]) ? "" : args[2];
        String schema = args[3];
        String hostId = args[4];
        int slots = Integer.parseInt(args[5]);
        long heartbeatMillis = Long.parseLong(args[6]);
        long deadAfterMillis = Long.parseLong(args[7]);
        RecoveryPolicy policy = "resume".equals(args[8]) ? RecoveryPolicy.resume() : RecoveryPolicy.failInterrupted();

        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(4);
        config.setMinimumIdle(1);
        config.setPoolName("host-" + hostId);
        // a frozen host (SIGSTOP, a long pause) must not hold row locks that a takeover waits for: the server ends
        // a session idle in a transaction after 2 s
        config.setConnectionInitSql("SET idle_in_transaction_session_timeout = 2000");
        try (HikariDataSource pool = new HikariDataSource(config);
             TaskManager manager = Hosts.configure(TaskManager.builder(), hostId, heartbeatMillis, deadAfterMillis)
                     .store(PostgresTaskStore.builder(pool).schema(schema).build())
                     .runner(new Ticker(hostId)).maxConcurrentTasks(slots).recoveryPolicy(policy).build()) {
            System.out.println("READY " + hostId);
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                String[] w = line.trim().split("\\s+");
                if (w[0].equals("quit")) {
                    break;
                } else if (w[0].equals("create")) {
                    TaskRequest.Builder b = TaskRequest.builder(AGENT).text("tick").title("ticks " + w[1])
                            .option("ticks", Integer.parseInt(w[1])).option("tickMillis", Long.parseLong(w[2]));
                    Task t = manager.create(Hosts.idempotencyKey(b, w.length > 3 ? w[3] : null).build());
                    System.out.println("CREATED " + t.id());
                    System.out.flush();
                }
            }
        }
        System.out.println("CLOSED " + hostId);
        System.out.flush();
    }

    /** The ticking runner. */
    static final class Ticker implements AgentRunner {
        private final String hostId;

        Ticker(String hostId) {
            this.hostId = hostId;
        }

        @Override
        public Optional<AgentDescriptor> describe(String agentId) {
            return AGENT.equals(agentId) ? Optional.of(new AgentDescriptor(AGENT, "Ticker", null)) : Optional.empty();
        }

        @Override
        public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
            int ticks = ((Number) turn.options().getOrDefault("ticks", 5)).intValue();
            long tickMillis = ((Number) turn.options().getOrDefault("tickMillis", 10)).longValue();
            Map<String, Object> start = new HashMap<>();
            start.put("host", hostId);
            start.put("phase", "start");
            start.put("number", turn.number());
            start.put("resumed", turn.resumed());
            context.emit("turn", start);
            for (int i = 0; i < ticks; i++) {
                if (context.isCancelled()) {
                    return TurnResult.completed(Map.of("cancelledAt", i));
                }
                context.emit("tick", Map.of("host", hostId, "i", i));
                // simulated work of the agent (not synchronisation): the turn takes ticks x tickMillis
                TimeUnit.MILLISECONDS.sleep(tickMillis);
            }
            context.emit("turn", Map.of("host", hostId, "phase", "end"));
            return TurnResult.completed(Map.of("host", hostId));
        }
    }
}
