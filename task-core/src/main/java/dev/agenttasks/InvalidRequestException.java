package dev.agenttasks;

/**
 * Bad input: a null or blank id, an empty message, data that is not JSON-compatible, a value over
 * a configured limit. Always thrown before anything is written. HTTP hosts map it to 400.
 */
public class InvalidRequestException extends TaskException {
    private static final long serialVersionUID = 1L;
    /** @serial the name of the input at fault */
    private final String field;

    /**
     * @param field the input at fault (for example {@code "message"})
     * @param message what is wrong
     */
    public InvalidRequestException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** @return the name of the input at fault */
    public String field() {
        return field;
    }
}
