package dev.agenttasks.examples;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;

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
}
