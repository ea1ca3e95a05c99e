package dev.agenttasks.internal;

import dev.agenttasks.TaskMessage;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TitlesTest {

    @Test
    void shortTextIsKeptWhole() {
        assertThat(Titles.derive(TaskMessage.text("Fix the login bug"), "Coder")).isEqualTo("Fix the login bug");
    }

    @Test
    void exactlyFiftyCharactersIsNotCut() {
        String fifty = "a".repeat(50);
        assertThat(Titles.derive(TaskMessage.text(fifty), "x")).isEqualTo(fifty);
    }

    @Test
    void longTextIsCutWithEllipsis() {
        String text = "b".repeat(51);
        assertThat(Titles.derive(TaskMessage.text(text), "x")).isEqualTo("b".repeat(50) + "...");
    }

    @Test
    void contentBlockTextIsCutWithEllipsisToo() {
        TaskMessage m = TaskMessage.content(List.of(Map.of("type", "image", "url", "u"),
                Map.of("type", "text", "text", "c".repeat(80))));
        assertThat(Titles.derive(m, "x")).isEqualTo("c".repeat(50) + "...");
    }

    @Test
    void neverSplitsASurrogatePair() {
        String emoji = "\uD83D\uDE00"; // one code point, two chars
        String text = "a".repeat(49) + emoji + emoji + "tail";
        String title = Titles.derive(TaskMessage.text(text), "x");
        assertThat(title).isEqualTo("a".repeat(49) + emoji + "...");
        assertThat(Character.isHighSurrogate(title.charAt(title.length() - 4))).isFalse();
        assertThat(title.codePoints().filter(cp -> cp >= 0xD800 && cp <= 0xDFFF).count()).isZero();
    }

    @Test
    void fiftyEmojiAreNotCut() {
        String text = "\uD83D\uDE00".repeat(50);
        assertThat(Titles.derive(TaskMessage.text(text), "x")).isEqualTo(text);
    }

    @Test
    void attachmentsOnly() {
        TaskMessage m = TaskMessage.content(List.of(Map.of("type", "image", "url", "u")));
        assertThat(Titles.derive(m, "x")).isEqualTo("[Attachment message]");
    }

    @Test
    void noMessageUsesAgentName() {
        assertThat(Titles.derive(null, "Research Bot")).isEqualTo("Task with Research Bot");
    }

    @Test
    void whitespaceIsFoldedToOneLine() {
        assertThat(Titles.derive(TaskMessage.text("  line one\n\tline two  "), "x")).isEqualTo("line one line two");
    }
}
