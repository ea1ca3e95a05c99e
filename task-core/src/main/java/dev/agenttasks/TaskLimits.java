package dev.agenttasks;

/**
 * Size limits checked before anything is written. Sizes of JSON-compatible values are measured as
 * their UTF-8 JSON encoding.
 *
 * @param maxIdLength       longest agent id, task id or event type, in characters
 * @param maxTitleLength    longest explicit title, in Unicode code points (an emoji counts once)
 * @param maxMetadataBytes  largest metadata map (keys plus values, UTF-8)
 * @param maxOptionsBytes   largest options map, as JSON
 * @param maxMessageBytes   largest message, as JSON
 * @param maxEventBytes     largest event data, as JSON
 */
public record TaskLimits(int maxIdLength, int maxTitleLength, int maxMetadataBytes, int maxOptionsBytes,
                         int maxMessageBytes, int maxEventBytes) {

    /** 128 characters. */
    public static final int DEFAULT_MAX_ID_LENGTH = 128;
    /** 200 code points. */
    public static final int DEFAULT_MAX_TITLE_LENGTH = 200;
    /** 16 KiB. */
    public static final int DEFAULT_MAX_METADATA_BYTES = 16 * 1024;
    /** 64 KiB. */
    public static final int DEFAULT_MAX_OPTIONS_BYTES = 64 * 1024;
    /** 1 MiB. */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
    /** 1 MiB. */
    public static final int DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

    /**
     * Checks that every limit is positive.
     *
     * @param maxIdLength longest agent id, task id or event type, in characters
     * @param maxTitleLength longest explicit title, in characters
     * @param maxMetadataBytes largest metadata map (keys plus values, UTF-8)
     * @param maxOptionsBytes largest options map, as JSON
     * @param maxMessageBytes largest message, as JSON
     * @param maxEventBytes largest event data, as JSON
     */
    public TaskLimits {
        if (maxIdLength < 1 || maxTitleLength < 1 || maxMetadataBytes < 1 || maxOptionsBytes < 1
                || maxMessageBytes < 1 || maxEventBytes < 1) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }

    /** @return the defaults */
    public static TaskLimits defaults() {
        return new TaskLimits(DEFAULT_MAX_ID_LENGTH, DEFAULT_MAX_TITLE_LENGTH, DEFAULT_MAX_METADATA_BYTES,
                DEFAULT_MAX_OPTIONS_BYTES, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_EVENT_BYTES);
    }

    /**
     * @param bytes new event limit
     * @return a copy with it
     */
    public TaskLimits withMaxEventBytes(int bytes) {
        return new TaskLimits(maxIdLength, maxTitleLength, maxMetadataBytes, maxOptionsBytes, maxMessageBytes, bytes);
    }

    /**
     * @param bytes new message limit
     * @return a copy with it
     */
    public TaskLimits withMaxMessageBytes(int bytes) {
        return new TaskLimits(maxIdLength, maxTitleLength, maxMetadataBytes, maxOptionsBytes, bytes, maxEventBytes);
    }

    /**
     * @param bytes new metadata limit
     * @return a copy with it
     */
    public TaskLimits withMaxMetadataBytes(int bytes) {
        return new TaskLimits(maxIdLength, maxTitleLength, bytes, maxOptionsBytes, maxMessageBytes, maxEventBytes);
    }
}
