package dev.agenttasks.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.postgres.PostgresTaskStore;
import dev.agenttasks.spi.TurnResult;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A host in a child JVM for the takeover benchmark ({@code only=pghosts}): a manager on the PostgreSQL store whose
 * turns emit {@code started} and then block until cancelled. Arguments: {@code url user password schema hostId
 * heartbeatMillis deadAfterMillis}. Prints {@code READY}; on the stdin line {@code create} it creates a task and
 * prints {@code CREATED <id>}.
 */
public final class BenchHost {
    private BenchHost() {
    }

    /**
     * @param args see the class comment
     * @throws Exception if the host fails
     */
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(args[0]);
        config.setUsername(args[1]);
        config.setPassword("-".equals(args[2]) ? "" : args[2]);
        config.setMaximumPoolSize(4);
        config.setConnectionInitSql("SET idle_in_transaction_session_timeout = 2000");
        try (HikariDataSource pool = new HikariDataSource(config);
             TaskManager m = PgHostsBench.configure(TaskManager.builder(), args[4], Long.parseLong(args[5]),
                     Long.parseLong(args[6])).store(PostgresTaskStore.builder(pool).schema(args[3]).build())
                     .runner(Agents.runner((turn, ctx) -> {
                         ctx.emit("started", Map.of("host", args[4]));
                         while (!ctx.isCancelled()) {
                             Thread.sleep(60_000); // the agent's work: blocks until cancelled or killed
                         }
                         return TurnResult.completed();
                     })).build()) {
            System.out.println("READY");
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null && !line.equals("quit")) {
                if (line.equals("create")) {
                    System.out.println("CREATED " + m.create(TaskRequest.of("bench", "block")).id());
                    System.out.flush();
                }
            }
        }
    }
}
