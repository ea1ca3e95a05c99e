package dev.agenttasks.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Small helpers over an {@link Exchange}: JSON responses, bounded bodies, query strings, headers. */
final class HttpIo {

    private HttpIo() {
    }

    /** Headers every response gets: no sniffing, no referrer, no framing. No CORS header is ever sent. */
    static void securityHeaders(Exchange ex) {
        ex.setHeader("X-Content-Type-Options", "nosniff");
        ex.setHeader("Referrer-Policy", "no-referrer");
        ex.setHeader("X-Frame-Options", "DENY");
    }

    static void sendJson(Exchange ex, int status, Object body) throws IOException {
        byte[] bytes = Json.bytes(body);
        ex.setHeader("Cache-Control", "no-store");
        ex.send(status, "application/json; charset=utf-8", bytes, true);
    }

    static void sendError(Exchange ex, int status, String field, String message) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        if (field != null) {
            body.put("field", field);
        }
        sendJson(ex, status, body);
    }

    /**
     * Reads the whole request body, refusing more than {@code limit} bytes.
     *
     * @throws ApiException 413 when the body (or its declared length) is over the limit
     */
    static byte[] readBody(Exchange ex, int limit) throws IOException {
        String declared = ex.header("Content-Length");
        if (declared != null) {
            long length;
            try {
                length = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("Content-Length", "bad Content-Length: " + declared);
            }
            if (length > limit) {
                throw new ApiException(413, "body", "request body too large: " + length + " > " + limit + " bytes");
            }
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        try (InputStream in = ex.body()) {
            int n;
            while ((n = in.read(chunk)) != -1) {
                if (buf.size() + n > limit) {
                    throw new ApiException(413, "body", "request body too large: over " + limit + " bytes");
                }
                buf.write(chunk, 0, n);
            }
        }
        return buf.toByteArray();
    }

    /** @return true if the request declares a JSON media type ({@code application/json} or {@code +json}) */
    static boolean isJson(Exchange ex) {
        String type = ex.header("Content-Type");
        if (type == null) {
            return false;
        }
        String media = type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return media.equals("application/json") || (media.startsWith("application/") && media.endsWith("+json"));
    }

    /** Parses the raw query string; repeated names keep every value. */
    static Map<String, List<String>> query(Exchange ex) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        String raw = ex.rawQuery();
        if (raw == null || raw.isEmpty()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            params.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    static String first(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("query", "bad percent-encoding: " + s);
        }
    }

    /** Drains and closes whatever is left of the request body, so the connection can be reused. */
    static void drain(Exchange ex) {
        try (InputStream in = ex.body()) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException ignored) {
            // the exchange is being answered anyway; a broken body only means the connection will close
        }
    }
}
