package dev.agenttasks.examples;

import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.regex.Pattern;

/** Serves the Tasks page's files from the {@code /web} folder of the classpath ({@code GET /} is the page). */
final class StaticFiles {

    private static final Pattern STATIC_NAME = Pattern.compile("[A-Za-z0-9_-]+\\.(html|js|css|svg|png|ico)");
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    private StaticFiles() {
    }

    static void serve(Exchange ex, String rawPath) throws IOException {
        String method = ex.method().toUpperCase(Locale.ROOT);
        ApiRoutes.allow(ex, method, "GET", "HEAD");
        String name = rawPath.equals("/") || rawPath.equals("/tasks") ? "index.html" : rawPath.substring(1);
        if (!STATIC_NAME.matcher(name).matches()) {
            throw new ApiException(404, "not found: " + rawPath);
        }
        byte[] bytes;
        try (InputStream in = StaticFiles.class.getResourceAsStream("/web/" + name)) {
            if (in == null) {
                throw new ApiException(404, "not found: " + rawPath);
            }
            bytes = in.readAllBytes();
        }
        String type;
        switch (name.substring(name.lastIndexOf('.') + 1)) {
            case "html":
                type = "text/html; charset=utf-8";
                ex.setHeader("Content-Security-Policy", CSP);
                break;
            case "js":
                type = "text/javascript; charset=utf-8";
                break;
            case "css":
                type = "text/css; charset=utf-8";
                break;
            case "svg":
                type = "image/svg+xml";
                break;
            case "png":
                type = "image/png";
                break;
            default:
                type = "image/x-icon";
        }
        ex.setHeader("Cache-Control", "no-cache");
        ex.send(200, type, bytes, !method.equals("HEAD"));
    }
}
