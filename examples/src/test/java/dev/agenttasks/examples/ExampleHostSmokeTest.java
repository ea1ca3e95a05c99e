package dev.agenttasks.examples;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Starts the host the way the README's command does (the same main class, in its own JVM, on SQLite),
 * on an ephemeral port and a temporary data folder; drives it with a plain HTTP client; stops it with
 * SIGTERM (what Ctrl-C does) and restarts it to see the interrupted task recovered.
 */
class ExampleHostSmokeTest {

    private static final Pattern URL = Pattern.compile("running at (http://\\S+)");

    private final List<Process> started = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @AfterEach
    void killLeftovers() {
        for (Process p : started) {
            p.destroyForcibly();
        }
    }

    @Test
    void startsCreatesStreamsStopsAndRecovers(@TempDir Path data) throws Exception {
        Host host = launch(data);
        assertThat(Files.exists(data.resolve("tasks.db"))).isTrue();

        JsonNode created = post(host.url, "/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"smoke test\"}", 201);
        String id = created.get("id").asText();
        HttpResponse<String> stream = http.send(HttpRequest.newBuilder(host.url.resolve("/api/tasks/" + id + "/stream"))
                .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(stream.statusCode()).isEqualTo(200);
        List<SseParser.Event> events = SseParser.parseAll(stream.body());
        SseStreamTest.assertContiguous(events, 1);
        assertThat(events).extracting(SseParser.Event::event).contains("text_delta", "result");
        assertThat(events.get(events.size() - 1).data()).contains("\"status\":\"completed\"");
        assertThat(get(host.url, "/api/tasks/" + id).get("status").asText()).isEqualTo("completed");

        JsonNode cli = post(host.url, "/api/tasks", "{\"agent_id\":\"cli-echo\",\"message\":\"through a process\"}", 201);
        String cliId = cli.get("id").asText();
        List<SseParser.Event> cliEvents = SseParser.parseAll(http.send(HttpRequest.newBuilder(
                host.url.resolve("/api/tasks/" + cliId + "/stream")).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(cliEvents.get(cliEvents.size() - 1).data()).contains("\"status\":\"completed\"");
        assertThat(get(host.url, "/api/tasks/" + cliId).get("session_id").asText()).startsWith("cli-");

        String longId = post(host.url, "/api/tasks", "{\"agent_id\":\"demo\",\"message\":\"a long job\"}", 201)
                .get("id").asText();
        awaitStatus(host.url, longId, "running");

        assertThat(host.process.isAlive()).as("output: %s", host.output).isTrue();
        // SIGTERM, like Ctrl-C: the shutdown hook closes the server and the manager. (Process.destroy() would
        // also close our end of its output, losing what the hook prints.)
        // a viewer is watching the running task when the stop comes: its stream must end, not hold the stop
        // (send returns once the response headers are in: the stream is open)
        HttpResponse<java.io.InputStream> watching = http.send(HttpRequest.newBuilder(
                host.url.resolve("/api/tasks/" + longId + "/stream")).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(watching.statusCode()).isEqualTo(200);
        long stopAt = System.nanoTime();
        host.process.toHandle().destroy();
        // the documented bound (shutdown timeout + margin), plus slack for a loaded machine's JVM exit
        Duration documented = ExampleHost.stopLimit(HostConfig.builder().build());
        assertThat(host.process.waitFor(documented.plusSeconds(3).toMillis(), TimeUnit.MILLISECONDS))
                .as("stopped within %s", documented).isTrue();
        System.out.printf("SIGTERM to exit: %d ms (documented bound %d ms)%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopAt), documented.toMillis());
        try (java.io.InputStream in = watching.body()) {
            // the stream ended (the read returns rather than hanging); a reset is an end too
            try {
                in.readAllBytes();
            } catch (IOException reset) {
                // ended by the stop
            }
        }
        assertThat(host.waitForLine("Stopped.", Duration.ofSeconds(5))).as("exit %s output: %s",
                host.process.exitValue(), host.output).isTrue();

        Host again = launch(data);
        assertThat(again.output).anyMatch(l -> l.contains("Recovered 1 task(s)"));
        JsonNode recovered = get(again.url, "/api/tasks/" + longId);
        assertThat(recovered.get("status").asText()).isEqualTo("failed");
        assertThat(recovered.get("error").asText()).contains("interrupted");
        assertThat(get(again.url, "/api/tasks/" + id).get("status").asText()).isEqualTo("completed");
        again.process.toHandle().destroy();
        assertThat(again.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    private Host launch(Path data) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", cp, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                ExampleHost.class.getName(), "--port", "0", "--data-dir", data.toString(), "--demo-token-delay-ms", "20");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        started.add(p);
        Host host = new Host(p);
        host.url = host.awaitUrl(Duration.ofSeconds(60));
        return host;
    }

    private JsonNode post(URI base, String path, String json, int expected) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(expected);
        return HostFixture.json(r.body());
    }

    private JsonNode get(URI base, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve(path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return HostFixture.json(r.body());
    }

    private void awaitStatus(URI base, String id, String status) throws Exception {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> get(base, "/api/tasks/" + id).get("status").asText().equals(status));
    }

    /** A host process and the lines it prints. */
    private static final class Host {
        final Process process;
        final List<String> output = new java.util.concurrent.CopyOnWriteArrayList<>();
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        URI url;

        Host(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        output.add(line);
                        lines.add(line);
                    }
                } catch (IOException e) {
                    lines.add("<<" + e + ">>");
                }
            }, "host-output");
            reader.setDaemon(true);
            reader.start();
        }

        URI awaitUrl(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                String line = lines.poll(500, TimeUnit.MILLISECONDS);
                if (line != null) {
                    Matcher m = URL.matcher(line);
                    if (m.find()) {
                        return URI.create(m.group(1));
                    }
                } else if (!process.isAlive()) {
                    break;
                }
            }
            throw new AssertionError("the host printed no URL; output: " + output);
        }

        boolean waitForLine(String text, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                if (output.stream().anyMatch(l -> l.contains(text))) {
                    return true;
                }
                lines.poll(100, TimeUnit.MILLISECONDS);
            }
            return output.stream().anyMatch(l -> l.contains(text));
        }
    }
}
