package dev.agenttasks;

import java.util.List;
import java.util.Map;

/**
 * A message to an agent: plain text, or multimodal content blocks, like the
 * {@code message} / {@code content} pair of a chat API.
 *
 * <p>Content blocks are JSON-compatible maps; a text block is {@code {"type": "text", "text": "…"}},
 * other blocks (images, files) are passed to the runner as they are. Exactly one of {@code text} and
 * {@code content} is set; the manager validates the message before anything is written.
 *
 * @param text    plain text, or {@code null} when content blocks are given
 * @param content content blocks, or {@code null} when text is given
 */
public record TaskMessage(String text, List<Map<String, Object>> content) {

    /**
     * A plain-text message.
     *
     * @param text the text, not blank
     * @return the message
     */
    public static TaskMessage text(String text) {
        return new TaskMessage(text, null);
    }

    /**
     * A message of content blocks.
     *
     * @param blocks JSON-compatible blocks, at least one
     * @return the message
     */
    public static TaskMessage content(List<Map<String, Object>> blocks) {
        return new TaskMessage(null, blocks);
    }

    /**
     * The first non-blank text of the message: the plain text, or the text of the first
     * {@code "text"} block that has any.
     *
     * @return the text, or {@code null} if the message has none (for example only an image)
     */
    public String firstText() {
        if (text != null) {
            return text.isBlank() ? null : text;
        }
        if (content != null) {
            for (Map<String, Object> block : content) {
                if (block != null && "text".equals(block.get("type")) && block.get("text") instanceof String) {
                    String t = (String) block.get("text");
                    if (!t.isBlank()) {
                        return t;
                    }
                }
            }
        }
        return null;
    }
}
