package dev.agenttasks;

/** A value is larger than its configured limit (see {@link TaskLimits}). HTTP hosts map it to 413. */
public class PayloadTooLargeException extends InvalidRequestException {
    private static final long serialVersionUID = 1L;
    /** @serial the size of the input */
    private final long size;
    /** @serial the limit */
    private final long limit;

    /**
     * @param field the input at fault
     * @param size  its size
     * @param limit the limit it exceeds
     */
    public PayloadTooLargeException(String field, long size, long limit) {
        super(field, field + " is too large: " + size + " > " + limit);
        this.size = size;
        this.limit = limit;
    }

    /** @return the size of the input */
    public long size() {
        return size;
    }

    /** @return the limit */
    public long limit() {
        return limit;
    }
}
