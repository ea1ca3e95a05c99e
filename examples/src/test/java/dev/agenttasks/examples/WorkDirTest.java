package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agenttasks.TaskQuery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code work_dir} and {@code add_dirs} are accepted only as existing folders inside a configured work root. */
class WorkDirTest {

    @Test
    void withoutAWorkRootWorkDirIsRefused(@TempDir Path dir) {
        try (HostFixture host = HostFixture.start()) {
            TasksApiTest.assertError(create(host, "work_dir", dir.toString()), 400, "work_dir");
            TasksApiTest.assertError(create(host, "add_dirs", "[" + Json.string(dir.toString()) + "]"), 400, "add_dirs");
            assertThat(host.manager.list(TaskQuery.all()).tasks()).isEmpty();
            // no folder at all is fine: the agent runs where the host decides
            assertThat(host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"x\"}").statusCode()).isEqualTo(201);
        }
    }

    @Test
    void onlyExistingFoldersInsideARootAreAccepted(@TempDir Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root")).toRealPath();
        Path inside = Files.createDirectories(root.resolve("project/sub"));
        Path outside = Files.createDirectories(tmp.resolve("elsewhere"));
        Path file = Files.writeString(root.resolve("file.txt"), "x");
        Path link = Files.createSymbolicLink(root.resolve("escape"), outside);
        try (HostFixture host = HostFixture.start(b -> b.workRoot(root))) {
            for (String bad : new String[] {"../../..", "relative/dir", root.resolve("missing").toString(),
                file.toString(), outside.toString(), root + "/../elsewhere", link.toString(), "/"}) {
                HttpResponse<String> r = create(host, "work_dir", bad);
                TasksApiTest.assertError(r, 400, "work_dir");
            }
            TasksApiTest.assertError(create(host, "add_dirs", "[" + Json.string(outside.toString()) + "]"), 400, "add_dirs");
            assertThat(host.manager.list(TaskQuery.all()).tasks()).isEmpty();

            HttpResponse<String> ok = create(host, "work_dir", root + "/project/./sub/../sub");
            assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
            JsonNode t = HostFixture.json(ok.body());
            assertThat(t.get("work_dir").asText()).isEqualTo(inside.toString());
            assertThat(create(host, "work_dir", root.toString()).statusCode()).isEqualTo(201);
        }
    }

    private static HttpResponse<String> create(HostFixture host, String field, String value) {
        String json = value.startsWith("[") ? value : Json.string(value);
        return host.postJson("/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"x\",\"" + field + "\":" + json + "}");
    }
}
