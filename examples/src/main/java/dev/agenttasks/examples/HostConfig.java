package dev.agenttasks.examples;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Settings of the example host. Build one with {@link #builder()} or parse command-line arguments with
 * {@link #parse(String[])}.
 *
 * @param bindAddress        the address to listen on; loopback by default
 * @param port               the port, 0 for an ephemeral one
 * @param dataDir            the folder holding the SQLite file ({@code tasks.db}, unless {@code postgres} is set)
 *                           and an optional {@code agents.json}
 * @param token              a bearer token required on every API route and event stream, or {@code null} for none
 * @param allowedHosts       extra host names accepted in {@code Host} and {@code Origin}, besides the loopback names
 * @param maxBodyBytes       the largest request body accepted (413 above)
 * @param heartbeatInterval  how often an idle event stream gets a comment line
 * @param maxStreamsPerTask  most concurrent event streams on one task (429 above)
 * @param maxStreamsTotal    most concurrent event streams in total (429 above)
 * @param agentsFile         the agent catalog to load, or {@code null} for {@code dataDir/agents.json} if it
 *                           exists, else the bundled one
 * @param demoTokenDelay     the pause between two tokens of the demo agent
 * @param resumeInterrupted  whether tasks a stopped host left running are resumed (default: failed as interrupted)
 * @param shutdownTimeout    how long a stop waits for running turns before interrupting them
 * @param idleTimeout        how long a connection may send nothing (while its request headers or body are
 *                           read, or between two requests of a kept-alive connection) before it is closed
 * @param maxHeaderBytes     the largest request line plus headers accepted (414 for a longer URL, 431 for
 *                           larger headers)
 * @param workRoots          the folders a task's {@code work_dir} and {@code add_dirs} must lie in (after
 *                           symbolic links are resolved); empty means both are refused
 * @param postgres           where to keep the tasks in PostgreSQL instead of the SQLite file, or {@code null}
 * @param hostId             this host's name among the hosts sharing the database ({@code --host-id}), or
 *                           {@code null} for a random one; a stable name lets a restarted host recover its own
 *                           tasks at once
 */
public record HostConfig(String bindAddress, int port, Path dataDir, String token, Set<String> allowedHosts,
                         int maxBodyBytes, Duration heartbeatInterval, int maxStreamsPerTask, int maxStreamsTotal,
                         Path agentsFile, Duration demoTokenDelay, boolean resumeInterrupted,
                         Duration shutdownTimeout, Duration idleTimeout, int maxHeaderBytes, List<Path> workRoots,
                         Postgres postgres, String hostId) {

    /** Environment variable holding the PostgreSQL user, used unless {@code --postgres-user} is given. */
    public static final String PG_USER_ENV = "AGENT_TASKS_PG_USER";
    /** Environment variable holding the PostgreSQL password, used unless {@code --postgres-password} is given. */
    public static final String PG_PASSWORD_ENV = "AGENT_TASKS_PG_PASSWORD";

    /**
     * A PostgreSQL database to keep the tasks in (through a HikariCP pool and the {@code task-postgres} store).
     *
     * @param jdbcUrl  a {@code jdbc:postgresql://…} URL
     * @param user     the user, or {@code null} to take it from the URL or the driver's defaults
     * @param password the password, or {@code null}; never shown by {@link #toString()}
     * @param schema   the database schema of the store's tables
     */
    public record Postgres(String jdbcUrl, String user, String password, String schema) {

        /** The schema used unless {@code --postgres-schema} names another. */
        public static final String DEFAULT_SCHEMA = "agent_tasks";

        /** Checks the URL and the schema name. */
        public Postgres {
            Objects.requireNonNull(jdbcUrl, "jdbcUrl can not be null");
            if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("--postgres needs a jdbc:postgresql:// URL, not " + jdbcUrl);
            }
            schema = schema == null ? DEFAULT_SCHEMA : schema;
            if (!schema.matches("[a-z_][a-z0-9_]{0,62}")) {
                throw new IllegalArgumentException("--postgres-schema must be lower-case letters, digits and "
                        + "underscores (at most 63, not starting with a digit): " + schema);
            }
        }

        /** @return the settings with the password masked */
        @Override
        public String toString() {
            return "Postgres[jdbcUrl=" + jdbcUrl + ", user=" + user + ", password=" + (password == null ? null : "***")
                    + ", schema=" + schema + "]";
        }
    }

    /** Default port: 8080. */
    public static final int DEFAULT_PORT = 8080;
    /** Default body limit: 2 MiB (a message may be up to 1 MiB of JSON). */
    public static final int DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
    /** Default heartbeat interval: 15 seconds. */
    public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);
    /** Default per-task stream cap: 256. */
    public static final int DEFAULT_MAX_STREAMS_PER_TASK = 256;
    /** Default total stream cap: 1024. */
    public static final int DEFAULT_MAX_STREAMS_TOTAL = 1024;
    /** Default idle timeout: 30 seconds (twice the default heartbeat, so an idle event stream stays open). */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Default limit of the request line plus headers: 16 KiB. */
    public static final int DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
    /** Default shutdown timeout: 3 seconds. A stop (Ctrl-C, SIGTERM) ends within it plus about 2 seconds. */
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(3);

    /** Validates the settings. */
    public HostConfig {
        Objects.requireNonNull(bindAddress, "bindAddress can not be null");
        Objects.requireNonNull(dataDir, "dataDir can not be null");
        Objects.requireNonNull(heartbeatInterval, "heartbeatInterval can not be null");
        Objects.requireNonNull(demoTokenDelay, "demoTokenDelay can not be null");
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout can not be null");
        Objects.requireNonNull(idleTimeout, "idleTimeout can not be null");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535: " + port);
        }
        if (maxBodyBytes < 1 || maxStreamsPerTask < 1 || maxStreamsTotal < 1 || maxHeaderBytes < 1024) {
            throw new IllegalArgumentException("limits must be positive");
        }
        if (heartbeatInterval.isNegative() || heartbeatInterval.isZero()) {
            throw new IllegalArgumentException("heartbeatInterval must be positive: " + heartbeatInterval);
        }
        if (idleTimeout.compareTo(heartbeatInterval) <= 0) {
            throw new IllegalArgumentException("idleTimeout (" + idleTimeout + ") must be longer than the heartbeat ("
                    + heartbeatInterval + "), or idle event streams would be closed");
        }
        if (shutdownTimeout.isNegative()) {
            throw new IllegalArgumentException("shutdownTimeout must not be negative: " + shutdownTimeout);
        }
        List<Path> roots = new ArrayList<>();
        for (Path root : workRoots == null ? List.<Path>of() : workRoots) {
            roots.add(root.toAbsolutePath().normalize());
        }
        workRoots = List.copyOf(roots);
        if (token != null && token.isBlank()) {
            token = null;
        }
        allowedHosts = allowedHosts == null ? Set.of() : Set.copyOf(allowedHosts);
        if (hostId != null && (hostId.isBlank() || hostId.length() > 200)) {
            throw new IllegalArgumentException("--host-id must be 1 to 200 characters and not blank");
        }
    }

    /** @return the settings with the token and the database password masked */
    @Override
    public String toString() {
        return "HostConfig[bindAddress=" + bindAddress + ", port=" + port + ", dataDir=" + dataDir + ", token="
                + (token == null ? null : "***") + ", allowedHosts=" + allowedHosts + ", maxBodyBytes=" + maxBodyBytes
                + ", heartbeatInterval=" + heartbeatInterval + ", maxStreamsPerTask=" + maxStreamsPerTask
                + ", maxStreamsTotal=" + maxStreamsTotal + ", agentsFile=" + agentsFile + ", demoTokenDelay="
                + demoTokenDelay + ", resumeInterrupted=" + resumeInterrupted + ", shutdownTimeout=" + shutdownTimeout
                + ", idleTimeout=" + idleTimeout + ", maxHeaderBytes=" + maxHeaderBytes + ", workRoots=" + workRoots
                + ", postgres=" + postgres + ", hostId=" + hostId + "]";
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder starting from these settings */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.bindAddress = bindAddress;
        b.port = port;
        b.dataDir = dataDir;
        b.token = token;
        b.allowedHosts = new ArrayList<>(allowedHosts);
        b.maxBodyBytes = maxBodyBytes;
        b.heartbeatInterval = heartbeatInterval;
        b.maxStreamsPerTask = maxStreamsPerTask;
        b.maxStreamsTotal = maxStreamsTotal;
        b.agentsFile = agentsFile;
        b.demoTokenDelay = demoTokenDelay;
        b.resumeInterrupted = resumeInterrupted;
        b.shutdownTimeout = shutdownTimeout;
        b.idleTimeout = idleTimeout;
        b.maxHeaderBytes = maxHeaderBytes;
        b.workRoots = new ArrayList<>(workRoots);
        b.postgres = postgres;
        b.hostId = hostId;
        return b;
    }

    /**
     * Parses command-line arguments: {@code --port N}, {@code --bind ADDRESS}, {@code --data-dir DIR},
     * {@code --token TOKEN}, {@code --allowed-host NAME} (repeatable), {@code --agents FILE},
     * {@code --max-body-bytes N}, {@code --heartbeat-seconds N}, {@code --demo-token-delay-ms N},
     * {@code --recovery fail|resume}, {@code --work-root DIR} (repeatable), {@code --idle-timeout-seconds N},
     * {@code --max-header-bytes N}, {@code --shutdown-timeout-seconds N}, {@code --postgres JDBC_URL},
     * {@code --postgres-user USER}, {@code --postgres-password PASSWORD}, {@code --postgres-schema NAME},
     * {@code --host-id NAME}. The token
     * may also come from the {@code AGENT_TASKS_TOKEN} environment variable, the PostgreSQL user and password
     * from {@value #PG_USER_ENV} and {@value #PG_PASSWORD_ENV} (so the password need not be on a command line,
     * where other users of the machine can read it); the options win over the environment.
     *
     * @param args the arguments
     * @return the settings
     * @throws IllegalArgumentException on an unknown option or a bad value
     */
    public static HostConfig parse(String[] args) {
        return parse(args, System.getenv());
    }

    /**
     * {@link #parse(String[])} with the environment given.
     *
     * @param args the arguments
     * @param env  the environment variables
     * @return the settings
     */
    static HostConfig parse(String[] args, Map<String, String> env) {
        Builder b = builder();
        String pgUrl = null;
        String pgUser = env.get(PG_USER_ENV);
        String pgPassword = env.get(PG_PASSWORD_ENV);
        String pgSchema = null;
        String envToken = env.get("AGENT_TASKS_TOKEN");
        if (envToken != null && !envToken.isBlank()) {
            b.token(envToken);
        }
        for (int i = 0; i < args.length; i++) {
            String option = args[i];
            if (option.equals("--help") || option.equals("-h")) {
                throw new IllegalArgumentException("usage");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("missing value for " + option);
            }
            String value = args[++i];
            switch (option) {
                case "--port":
                    b.port(intValue(option, value));
                    break;
                case "--bind":
                    b.bindAddress(value);
                    break;
                case "--data-dir":
                    b.dataDir(Path.of(value));
                    break;
                case "--token":
                    b.token(value);
                    break;
                case "--allowed-host":
                    b.allowedHost(value);
                    break;
                case "--agents":
                    b.agentsFile(Path.of(value));
                    break;
                case "--max-body-bytes":
                    b.maxBodyBytes(intValue(option, value));
                    break;
                case "--heartbeat-seconds":
                    b.heartbeatInterval(Duration.ofSeconds(intValue(option, value)));
                    break;
                case "--demo-token-delay-ms":
                    b.demoTokenDelay(Duration.ofMillis(intValue(option, value)));
                    break;
                case "--work-root":
                    b.workRoot(Path.of(value));
                    break;
                case "--idle-timeout-seconds":
                    b.idleTimeout(Duration.ofSeconds(intValue(option, value)));
                    break;
                case "--max-header-bytes":
                    b.maxHeaderBytes(intValue(option, value));
                    break;
                case "--shutdown-timeout-seconds":
                    b.shutdownTimeout(Duration.ofSeconds(intValue(option, value)));
                    break;
                case "--postgres":
                    pgUrl = value;
                    break;
                case "--postgres-user":
                    pgUser = value;
                    break;
                case "--postgres-password":
                    pgPassword = value;
                    break;
                case "--host-id":
                    b.hostId(value);
                    break;
                case "--postgres-schema":
                    pgSchema = value;
                    break;
                case "--recovery":
                    String v = value.toLowerCase(Locale.ROOT);
                    if (!v.equals("fail") && !v.equals("resume")) {
                        throw new IllegalArgumentException("--recovery must be fail or resume: " + value);
                    }
                    b.resumeInterrupted(v.equals("resume"));
                    break;
                default:
                    throw new IllegalArgumentException("unknown option: " + option);
            }
        }
        if (pgUrl != null) {
            b.postgres(new Postgres(pgUrl, blankToNull(pgUser), blankToNull(pgPassword), pgSchema));
        } else if (pgSchema != null) {
            throw new IllegalArgumentException("--postgres-schema needs --postgres");
        }
        return b.build();
    }

    private static String blankToNull(String v) {
        return v == null || v.isEmpty() ? null : v;
    }

    private static int intValue(String option, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a number: " + value, e);
        }
    }

    /** Builder of {@link HostConfig}. Not thread-safe. */
    public static final class Builder {
        private String bindAddress = "127.0.0.1";
        private int port = DEFAULT_PORT;
        private Path dataDir = Path.of("data");
        private String token;
        private List<String> allowedHosts = new ArrayList<>();
        private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
        private Duration heartbeatInterval = DEFAULT_HEARTBEAT;
        private int maxStreamsPerTask = DEFAULT_MAX_STREAMS_PER_TASK;
        private int maxStreamsTotal = DEFAULT_MAX_STREAMS_TOTAL;
        private Path agentsFile;
        private Duration demoTokenDelay = Duration.ofMillis(40);
        private boolean resumeInterrupted;
        private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private int maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES;
        private List<Path> workRoots = new ArrayList<>();
        private Postgres postgres;
        private String hostId;

        private Builder() {
        }

        /**
         * @param v address to bind
         * @return this
         */
        public Builder bindAddress(String v) {
            this.bindAddress = v;
            return this;
        }

        /**
         * @param v port, 0 for ephemeral
         * @return this
         */
        public Builder port(int v) {
            this.port = v;
            return this;
        }

        /**
         * @param v data folder
         * @return this
         */
        public Builder dataDir(Path v) {
            this.dataDir = v;
            return this;
        }

        /**
         * @param v bearer token, or null
         * @return this
         */
        public Builder token(String v) {
            this.token = v;
            return this;
        }

        /**
         * @param v an extra accepted host name
         * @return this
         */
        public Builder allowedHost(String v) {
            this.allowedHosts.add(Objects.requireNonNull(v, "allowed host can not be null"));
            return this;
        }

        /**
         * @param v body limit in bytes
         * @return this
         */
        public Builder maxBodyBytes(int v) {
            this.maxBodyBytes = v;
            return this;
        }

        /**
         * @param v heartbeat interval
         * @return this
         */
        public Builder heartbeatInterval(Duration v) {
            this.heartbeatInterval = v;
            return this;
        }

        /**
         * @param v per-task stream cap
         * @return this
         */
        public Builder maxStreamsPerTask(int v) {
            this.maxStreamsPerTask = v;
            return this;
        }

        /**
         * @param v total stream cap
         * @return this
         */
        public Builder maxStreamsTotal(int v) {
            this.maxStreamsTotal = v;
            return this;
        }

        /**
         * @param v agent catalog file, or null
         * @return this
         */
        public Builder agentsFile(Path v) {
            this.agentsFile = v;
            return this;
        }

        /**
         * @param v demo agent pause between tokens
         * @return this
         */
        public Builder demoTokenDelay(Duration v) {
            this.demoTokenDelay = v;
            return this;
        }

        /**
         * @param v resume interrupted tasks instead of failing them
         * @return this
         */
        public Builder resumeInterrupted(boolean v) {
            this.resumeInterrupted = v;
            return this;
        }

        /**
         * @param v how long a stop waits for running turns
         * @return this
         */
        public Builder shutdownTimeout(Duration v) {
            this.shutdownTimeout = v;
            return this;
        }

        /**
         * @param v how long a silent connection stays open
         * @return this
         */
        public Builder idleTimeout(Duration v) {
            this.idleTimeout = v;
            return this;
        }

        /**
         * @param v largest request line plus headers, in bytes (at least 1024)
         * @return this
         */
        public Builder maxHeaderBytes(int v) {
            this.maxHeaderBytes = v;
            return this;
        }

        /**
         * @param v a folder task work directories may lie in (repeatable)
         * @return this
         */
        public Builder workRoot(Path v) {
            this.workRoots.add(Objects.requireNonNull(v, "work root can not be null"));
            return this;
        }

        /**
         * @param v the PostgreSQL database to keep the tasks in, or null for the SQLite file in the data folder
         * @return this
         */
        public Builder postgres(Postgres v) {
            this.postgres = v;
            return this;
        }

        /**
         * @param v this host's name among the hosts sharing the database, or null for a random one
         * @return this
         */
        public Builder hostId(String v) {
            this.hostId = v;
            return this;
        }

        /** @return the settings */
        public HostConfig build() {
            return new HostConfig(bindAddress, port, dataDir, token, Set.copyOf(allowedHosts), maxBodyBytes,
                    heartbeatInterval, maxStreamsPerTask, maxStreamsTotal, agentsFile, demoTokenDelay,
                    resumeInterrupted, shutdownTimeout, idleTimeout, maxHeaderBytes, workRoots, postgres, hostId);
        }
    }
}
