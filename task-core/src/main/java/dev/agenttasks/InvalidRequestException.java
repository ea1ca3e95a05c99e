package dev.agenttasks;

/**
 * Bad input: a null or blank id, an empty message, data that is not JSON-compatible, a value over
 * a configured limit, or text a store could not keep unchanged. Always thrown before anything is
 * written. HTTP hosts map it to 400.
 *
 * <p>{@link #field()} names the input at fault in snake_case, as an HTTP host's JSON names it, and the
 * message starts with what is wrong with it:
 * <ul>
 *   <li>{@link TaskManager#create}: {@code request}, {@code agent_id}, {@code message} (the text, or a
 *       message with neither or both of text and content), {@code content} (the content blocks),
 *       {@code options}, {@code metadata}, {@code work_dir}, {@code title}, {@code timeout};</li>
 *   <li>{@link TaskManager#sendMessage}: {@code task_id}, {@code message}, {@code content};</li>
 *   <li>{@link TaskManager#get}, {@link TaskManager#cancel}, {@link TaskManager#delete},
 *       {@link TaskManager#events(String, long)}, {@link TaskManager#whenFinished}: {@code task_id},
 *       {@code after_seq};</li>
 *   <li>{@link TaskManager#list} and {@link TaskQuery}: {@code query}, {@code cursor}, {@code limit},
 *       {@code status};</li>
 *   <li>from a runner ({@link dev.agenttasks.spi.TurnContext}, {@link dev.agenttasks.spi.TurnResult}):
 *       {@code type} and {@code data} of an event, {@code session_id}, {@code result}, {@code question}.</li>
 * </ul>
 *
 * <p>Text a store would change without a word is rejected: a lone UTF-16 surrogate anywhere (in ids,
 * text, metadata and every string of JSON data; UTF-8 can not hold it); a control character (U+0000 to
 * U+001F, U+007F to U+009F) in an id, the title, the work directory, metadata keys and values, the type of
 * an event or a session id; in message text (and the text of a {@code "text"} content block) only tab,
 * line feed and carriage return are allowed. Inside JSON data ({@code options}, event {@code data},
 * results) control characters are allowed, since JSON escapes them and they read back unchanged. A
 * message text or title made only of invisible characters (whitespace, zero-width and other format
 * characters, lone combining marks, blank fillers) counts as empty. {@link PayloadTooLargeException}, a
 * subclass, uses the same field names.
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
