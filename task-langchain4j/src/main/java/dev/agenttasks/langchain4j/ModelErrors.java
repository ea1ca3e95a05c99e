package dev.agenttasks.langchain4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.RetriableException;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.http.HttpTimeoutException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns whatever a model call failed with into a {@link ModelCallException} with a readable message. */
final class ModelErrors {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final int MAX_PROVIDER_MESSAGE = 2000;

    private ModelErrors() {
    }

    static ModelCallException classify(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        HttpException http = find(t, HttpException.class);
        if (http != null) {
            int status = http.statusCode();
            String provider = providerMessage(http.getMessage());
            boolean transientFailure = status == 429 || status == 408 || status >= 500;
            String message = "model call failed: HTTP " + status + " (" + reason(status) + ")"
                    + (provider == null ? "" : ": " + provider);
            return new ModelCallException(message, status, provider, transientFailure, t);
        }
        boolean timeout = find(t, dev.langchain4j.exception.TimeoutException.class) != null
                || find(t, HttpTimeoutException.class) != null
                || find(t, SocketTimeoutException.class) != null
                || find(t, java.util.concurrent.TimeoutException.class) != null;
        boolean connect = find(t, ConnectException.class) != null;
        boolean transientFailure = timeout || connect || t instanceof RetriableException;
        String what = timeout ? "timed out" : connect ? "could not connect" : "failed";
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String detail = describe(t);
        if (root != t && !detail.contains(describe(root))) {
            detail = detail + " (" + describe(root) + ")";
        }
        com.fasterxml.jackson.core.JsonProcessingException json = timeout || connect ? null : streamFormatError(t);
        if (json != null) {
            what = "failed: the model's stream could not be read";
            detail = firstLine(String.valueOf(json.getOriginalMessage()));
        }
        return new ModelCallException("model call " + what + ": " + detail, -1, null, transientFailure, t);
    }

    /** The JSON error of a stream chunk that could not be parsed, if that is what failed. */
    private static com.fasterxml.jackson.core.JsonProcessingException streamFormatError(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof com.fasterxml.jackson.core.JsonProcessingException j) {
                return j;
            }
            if (c instanceof IOException) {
                return null; // a network failure, not a format one
            }
        }
        return null;
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        String name = t.getClass().getSimpleName();
        return m == null || m.isBlank() ? name : name + ": " + firstLine(m);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        String line = nl < 0 ? s : s.substring(0, nl);
        return line.length() > MAX_PROVIDER_MESSAGE ? line.substring(0, MAX_PROVIDER_MESSAGE) + "…" : line;
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    /** The provider's message: {@code error.message} of an OpenAI-style error body, else the body itself. */
    static String providerMessage(String body) {
        if (body == null || body.isBlank()) {
            return null;
        }
        try {
            JsonNode root = MAPPER.readTree(body);
            JsonNode error = root == null ? null : root.get("error");
            JsonNode message = error == null ? null : error.isTextual() ? error : error.get("message");
            if (message == null && root != null) {
                message = root.get("message");
            }
            if (message != null && message.isTextual() && !message.asText().isBlank()) {
                return firstLine(message.asText().strip());
            }
        } catch (IOException | RuntimeException e) {
            // not JSON: the body itself is the message
        }
        return firstLine(body.strip());
    }

    private static String reason(int status) {
        if (status == 429) {
            return "rate limited";
        }
        if (status == 401 || status == 403) {
            return "not authorised";
        }
        if (status == 404) {
            return "not found";
        }
        if (status == 408) {
            return "request timeout";
        }
        if (status >= 500) {
            return "server error";
        }
        return status >= 400 ? "request rejected" : "unexpected status";
    }
}
