/**
 * agent-tasks PostgreSQL store: a {@link dev.agenttasks.spi.TaskStore} on PostgreSQL through pgjdbc and a
 * host-supplied {@link javax.sql.DataSource}. Start at {@link dev.agenttasks.postgres.PostgresTaskStore}.
 */
module dev.agenttasks.postgres {
    requires transitive dev.agenttasks.core;
    requires transitive java.sql;
    requires java.naming;
    requires org.postgresql.jdbc;
    requires com.fasterxml.jackson.databind;
    requires org.slf4j;

    exports dev.agenttasks.postgres;
}
