package dev.agenttasks.examples;

import com.sun.net.httpserver.HttpServer;
import dev.agenttasks.Task;
import dev.agenttasks.TaskManager;
import dev.agenttasks.TaskRequest;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.TaskStore;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The {@code openai} runner type of {@code agents.json}. */
class OpenAiAgentsTest {

    private static AgentCatalog catalog(String entry) {
        return AgentCatalog.parse(("{\"agents\":[" + entry + "]}").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void parsesAnOpenAiEntry() {
        AgentCatalog.Entry e = catalog("{\"id\":\"gpt\",\"name\":\"GPT\",\"model\":\"gpt-4o-mini\",\"runner\":\"openai\","
                + "\"base_url\":\"https://api.openai.com/v1\",\"api_key_env\":\"OPENAI_API_KEY\","
                + "\"system_prompt\":\"Be brief.\"}").get("gpt").orElseThrow();

        assertThat(e.kind()).isEqualTo(AgentCatalog.Kind.OPENAI);
        assertThat(e.openAi()).isEqualTo(new AgentCatalog.OpenAiSettings("https://api.openai.com/v1", "OPENAI_API_KEY", "Be brief."));
        assertThat(e.descriptor().model()).isEqualTo("gpt-4o-mini");
    }

    @Test
    void rejectsIncompleteOrUnsafeOpenAiEntries() {
        assertThatThrownBy(() -> catalog("{\"id\":\"g\",\"runner\":\"openai\",\"base_url\":\"http://localhost:11434/v1\"}"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"model\"");
        assertThatThrownBy(() -> catalog("{\"id\":\"g\",\"runner\":\"openai\",\"model\":\"m\"}"))
                .hasMessageContaining("base_url");
        assertThatThrownBy(() -> catalog("{\"id\":\"g\",\"runner\":\"openai\",\"model\":\"m\",\"base_url\":\"ftp://x\"}"))
                .hasMessageContaining("base_url");
        assertThatThrownBy(() -> catalog("{\"id\":\"g\",\"runner\":\"openai\",\"model\":\"m\",\"base_url\":\"http://x/v1\","
                + "\"api_key_env\":\"not a name\"}")).hasMessageContaining("api_key_env");
        assertThatThrownBy(() -> catalog("{\"id\":\"g\",\"runner\":\"openai\",\"model\":\"m\",\"base_url\":\"http://x/v1\","
                + "\"api_key\":\"sk-secret\"}")).hasMessageContaining("environment variable");
    }

    @Test
    void aMissingKeyVariableFailsTheTaskSayingWhichOne() {
        AgentCatalog.Entry e = catalog("{\"id\":\"gpt\",\"model\":\"m\",\"runner\":\"openai\","
                + "\"base_url\":\"http://127.0.0.1:9/v1\",\"api_key_env\":\"MY_KEY\"}").get("gpt").orElseThrow();
        AgentRunner runner = OpenAiAgents.runner(e, name -> null);

        try (TaskManager m = TaskManager.builder().store(TaskStore.inMemory()).runner(runner).build()) {
            String id = m.create(TaskRequest.of("gpt", "hi")).id();
            await().until(() -> m.get(id).orElseThrow().status().isTerminal());
            Task t = m.get(id).orElseThrow();
            assertThat(t.status()).isEqualTo(TaskStatus.FAILED);
            assertThat(t.error()).contains("MY_KEY is not set");
        }
    }

    @Test
    void runsAgainstAnOpenAiCompatibleServerWithTheKeyFromTheEnvironment() throws Exception {
        List<String> authorization = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/chat/completions", ex -> {
            ex.getRequestBody().readAllBytes();
            authorization.add(ex.getRequestHeaders().getFirst("Authorization"));
            ex.getResponseHeaders().add("Content-Type", "text/event-stream");
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                for (String c : List.of("{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \"}}]}",
                        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"there\"}}]}",
                        "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}", "[DONE]")) {
                    out.write(("data: " + c + "\n\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
        });
        server.start();
        try {
            AgentCatalog.Entry e = catalog("{\"id\":\"local\",\"model\":\"llama3\",\"runner\":\"openai\",\"base_url\":"
                    + "\"http://127.0.0.1:" + server.getAddress().getPort() + "/v1\",\"api_key_env\":\"LOCAL_KEY\"}")
                    .get("local").orElseThrow();
            AgentRunner runner = OpenAiAgents.runner(e, Map.of("LOCAL_KEY", "sk-local")::get);

            try (TaskManager m = TaskManager.builder().store(TaskStore.inMemory()).runner(runner).build()) {
                String id = m.create(TaskRequest.of("local", "hello")).id();
                await().until(() -> m.get(id).orElseThrow().status().isTerminal());
                Task t = m.get(id).orElseThrow();
                assertThat(t.status()).as(t.error()).isEqualTo(TaskStatus.COMPLETED);
            }
            assertThat(authorization).containsExactly("Bearer sk-local");
        } finally {
            server.stop(0);
        }
    }
}
