package dev.agenttasks.examples;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HostConfigTest {

    @Test
    void defaultsAreLoopbackPort8080AndTheDataFolder() {
        HostConfig c = HostConfig.parse(new String[0]);
        assertThat(c.bindAddress()).isEqualTo("127.0.0.1");
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.dataDir()).isEqualTo(Path.of("data"));
        assertThat(c.maxBodyBytes()).isEqualTo(HostConfig.DEFAULT_MAX_BODY_BYTES);
        assertThat(c.resumeInterrupted()).isFalse();
    }

    @Test
    void parsesEveryOption() {
        HostConfig c = HostConfig.parse(new String[] {"--port", "0", "--bind", "::1", "--data-dir", "/tmp/x",
            "--token", "t", "--allowed-host", "box.local", "--agents", "a.json", "--max-body-bytes", "10",
            "--heartbeat-seconds", "3", "--demo-token-delay-ms", "5", "--recovery", "resume", "--work-root", "/srv/a",
            "--work-root", "/srv/b/../c", "--idle-timeout-seconds", "9", "--max-header-bytes", "4096",
            "--shutdown-timeout-seconds", "7"});
        assertThat(c.port()).isZero();
        assertThat(c.bindAddress()).isEqualTo("::1");
        assertThat(c.dataDir()).isEqualTo(Path.of("/tmp/x"));
        assertThat(c.token()).isEqualTo("t");
        assertThat(c.allowedHosts()).containsExactly("box.local");
        assertThat(c.agentsFile()).isEqualTo(Path.of("a.json"));
        assertThat(c.maxBodyBytes()).isEqualTo(10);
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.demoTokenDelay()).isEqualTo(Duration.ofMillis(5));
        assertThat(c.resumeInterrupted()).isTrue();
        assertThat(c.workRoots()).containsExactly(Path.of("/srv/a"), Path.of("/srv/c"));
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofSeconds(9));
        assertThat(c.maxHeaderBytes()).isEqualTo(4096);
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(7));
        assertThat(ExampleHost.stopLimit(c)).isEqualTo(Duration.ofSeconds(9));
    }

    @Test
    void hostIdNamesThisHostAmongTheOnesSharingTheDatabase() {
        assertThat(HostConfig.parse(new String[0]).hostId()).isNull();
        assertThat(HostConfig.parse(new String[] {"--host-id", "web-1"}).hostId()).isEqualTo("web-1");
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--host-id", " "})).hasMessageContaining("--host-id");
    }

    @Test
    void rejectsBadOptions() {
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--nope", "1"})).hasMessageContaining("unknown option");
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--port"})).hasMessageContaining("missing value");
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--port", "x"})).hasMessageContaining("needs a number");
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--port", "70000"})).hasMessageContaining("port");
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--recovery", "maybe"})).hasMessageContaining("fail or resume");
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--idle-timeout-seconds", "10", "--heartbeat-seconds", "10"}))
                .hasMessageContaining("longer than the heartbeat");
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--max-header-bytes", "100"})).hasMessageContaining("limits");
    }

    @Test
    void postgresOptionsTakeThePasswordFromTheEnvironmentAndNeverShowIt() {
        HostConfig c = HostConfig.parse(new String[] {"--postgres", "jdbc:postgresql://db:5432/app",
            "--postgres-schema", "tasks_1"}, Map.of(HostConfig.PG_USER_ENV, "app", HostConfig.PG_PASSWORD_ENV, "s3cret"));
        assertThat(c.postgres()).isEqualTo(new HostConfig.Postgres("jdbc:postgresql://db:5432/app", "app", "s3cret",
                "tasks_1"));
        assertThat(c.toString()).doesNotContain("s3cret");
        assertThat(c.postgres().toString()).doesNotContain("s3cret");

        HostConfig flags = HostConfig.parse(new String[] {"--postgres", "jdbc:postgresql://db/app", "--postgres-user",
            "u", "--postgres-password", "p"}, Map.of(HostConfig.PG_USER_ENV, "env-user"));
        assertThat(flags.postgres().user()).isEqualTo("u");
        assertThat(flags.postgres().password()).isEqualTo("p");
        assertThat(flags.postgres().schema()).isEqualTo(HostConfig.Postgres.DEFAULT_SCHEMA);
        assertThat(HostConfig.parse(new String[0], Map.of(HostConfig.PG_PASSWORD_ENV, "x")).postgres()).isNull();
    }

    @Test
    void rejectsBadPostgresOptions() {
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--postgres", "jdbc:mysql://db/app"}, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("jdbc:postgresql://");
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--postgres", "jdbc:postgresql://db/app",
            "--postgres-schema", "Bad-Name"}, Map.of())).hasMessageContaining("--postgres-schema");
        assertThatThrownBy(() -> HostConfig.parse(new String[] {"--postgres-schema", "x"}, Map.of()))
                .hasMessageContaining("needs --postgres");
    }
}
