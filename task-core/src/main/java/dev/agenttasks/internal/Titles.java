package dev.agenttasks.internal;

import dev.agenttasks.TaskMessage;

/** Derives a task's title from its first message. */
public final class Titles {
    /** Longest derived title, in characters (code points), before "...". */
    public static final int MAX = 50;
    /** Title of a message with attachments but no text. */
    public static final String ATTACHMENT = "[Attachment message]";

    private Titles() {
    }

    /**
     * @param message   the first message, or null
     * @param agentName the agent's display name
     * @return the first text cut to {@value #MAX} code points, with "..." whenever it was cut
     */
    public static String derive(TaskMessage message, String agentName) {
        if (message == null) {
            return "Task with " + agentName;
        }
        String text = message.firstText();
        if (text == null || Text.isInvisible(text)) {
            return ATTACHMENT;
        }
        String oneLine = text.strip().replaceAll("\\s+", " ");
        int cps = oneLine.codePointCount(0, oneLine.length());
        if (cps <= MAX) {
            return oneLine;
        }
        int end = oneLine.offsetByCodePoints(0, MAX);
        return oneLine.substring(0, end).stripTrailing() + "...";
    }
}
