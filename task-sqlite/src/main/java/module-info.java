/**
 * agent-tasks SQLite store: the default durable {@link dev.agenttasks.spi.TaskStore}, one embedded SQLite
 * file. Start at {@link dev.agenttasks.sqlite.SqliteTaskStore}.
 */
module dev.agenttasks.sqlite {
    requires transitive dev.agenttasks.core;
    requires java.sql;
    requires org.xerial.sqlitejdbc;
    requires com.fasterxml.jackson.databind;
    requires org.slf4j;

    exports dev.agenttasks.sqlite;
}
