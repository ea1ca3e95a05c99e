package dev.agenttasks.examples;

/**
 * An HTTP error the host answers with {@code {"error": "...", "field": "..."}} and the given status.
 */
final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String field;

    ApiException(int status, String message) {
        this(status, null, message);
    }

    ApiException(int status, String field, String message) {
        super(message);
        this.status = status;
        this.field = field;
    }

    int status() {
        return status;
    }

    String field() {
        return field;
    }

    static ApiException badRequest(String field, String message) {
        return new ApiException(400, field, message);
    }
}
