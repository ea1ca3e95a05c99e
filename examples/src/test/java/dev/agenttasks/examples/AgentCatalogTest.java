package dev.agenttasks.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentCatalogTest {

    @Test
    void theBundledCatalogHasADemoAndAProcessAgent() {
        AgentCatalog c = AgentCatalog.bundled();
        assertThat(c.entries()).extracting(e -> e.descriptor().id()).containsExactly("demo", "cli-echo");
        AgentCatalog.Entry cli = c.get("cli-echo").orElseThrow();
        assertThat(cli.kind()).isEqualTo(AgentCatalog.Kind.PROCESS);
        assertThat(cli.command().get(0)).endsWith("java").doesNotContain("{");
        assertThat(cli.command().get(2)).doesNotContain("{classpath}");
        assertThat(new CatalogAgentRunner(c, Duration.ZERO).describe("demo")).isPresent();
        assertThat(new CatalogAgentRunner(c, Duration.ZERO).describe("nobody")).isEmpty();
    }

    @Test
    void loadsAFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("agents.json");
        Files.writeString(f, "{\"agents\":[{\"id\":\"a1\",\"name\":\"A one\",\"runner\":\"demo\"},"
                + "{\"id\":\"p\",\"runner\":\"process\",\"command\":[\"sh\",\"-c\",\"true\"]}]}", StandardCharsets.UTF_8);
        AgentCatalog c = AgentCatalog.load(f);
        assertThat(c.get("a1").orElseThrow().descriptor().name()).isEqualTo("A one");
        assertThat(c.get("p").orElseThrow().descriptor().name()).isEqualTo("p");
    }

    @Test
    void rejectsBadCatalogs() {
        assertThatThrownBy(() -> AgentCatalog.parse("{}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("agents");
        assertThatThrownBy(() -> AgentCatalog.parse("{\"agents\":[{\"id\":\"x\",\"runner\":\"process\"}]}".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("command");
        assertThatThrownBy(() -> AgentCatalog.parse("{\"agents\":[{\"id\":\"x y\"}]}".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("bad agent id");
        assertThatThrownBy(() -> AgentCatalog.parse("{\"agents\":[{\"id\":\"x\"},{\"id\":\"x\"}]}".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("duplicate");
        assertThatThrownBy(() -> AgentCatalog.parse("{\"agents\":[{\"id\":\"x\",\"runner\":\"gpu\"}]}".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("unknown runner");
        assertThatThrownBy(() -> AgentCatalog.parse("not json".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("not valid JSON");
    }
}
