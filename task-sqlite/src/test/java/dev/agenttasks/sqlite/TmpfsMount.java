package dev.agenttasks.sqlite;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A small tmpfs for tests that need a full or read-only file system; skips the test where it cannot mount. */
final class TmpfsMount {

    private TmpfsMount() {
    }

    /**
     * Mounts a tmpfs of the given size at {@code dir}, or aborts the calling test (skipped, not passed)
     * when that is not possible here (not Linux, not root, no mount permission).
     */
    static Path mountOrSkip(Path dir, String size) throws IOException, InterruptedException {
        Assumptions.assumeTrue(System.getProperty("os.name", "").toLowerCase().contains("linux"),
                "needs Linux to mount a tmpfs");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root to mount a tmpfs");
        Files.createDirectories(dir);
        Result r = run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString());
        Assumptions.assumeTrue(r.code == 0, () -> "cannot mount a tmpfs here: " + r.output);
        return dir;
    }

    static void remount(Path dir, String mode) throws IOException, InterruptedException {
        Result r = run("mount", "-o", "remount," + mode, dir.toString());
        if (r.code != 0) {
            throw new IllegalStateException("remount " + mode + " of " + dir + " failed: " + r.output);
        }
    }

    static void unmount(Path dir) throws IOException, InterruptedException {
        Result r = run("umount", dir.toString());
        if (r.code != 0) {
            throw new IllegalStateException("umount of " + dir + " failed: " + r.output);
        }
    }

    private static final class Result {
        final int code;
        final String output;

        Result(int code, String output) {
            this.code = code;
            this.output = output;
        }
    }

    private static Result run(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(command));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, "timed out");
        }
        return new Result(p.exitValue(), out);
    }
}
