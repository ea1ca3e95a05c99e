package dev.agenttasks.testkit.engine;

import dev.agenttasks.Task;
import dev.agenttasks.TaskMessage;
import dev.agenttasks.TaskRequest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Title derivation (issue 2, point 1): the first text, cut to 50 characters with "..." whenever it was
 * cut, never splitting a surrogate pair; "[Attachment message]" without text; "Task with &lt;agent
 * name&gt;" without a message. Both readings of "cut to 50" are accepted: 50 characters plus "...", or 50
 * in total.
 */
class TitleDerivationTest extends EngineTestBase {

    @BeforeEach
    void startManager() {
        start();
    }

    private String title(TaskRequest request) {
        Task t = manager.create(request);
        assertThat(manager.get(t.id()).orElseThrow().title()).isEqualTo(t.title());
        assertThat(data.task(t.id()).orElseThrow().task().title()).isEqualTo(t.title());
        return t.title();
    }

    /**
     * The kept part is a prefix of the text of about 50 characters (counted as UTF-16 chars or as code
     * points: the issue does not say which), followed by "...".
     */
    private static void assertCut(String title, String text) {
        assertThat(title).endsWith("...");
        String prefix = title.substring(0, title.length() - 3);
        assertThat(text).startsWith(prefix);
        int chars = prefix.length();
        int codePoints = prefix.codePointCount(0, prefix.length());
        assertThat((chars >= 46 && chars <= 51) || (codePoints >= 46 && codePoints <= 51))
                .as("kept %d chars / %d code points of %s", chars, codePoints, title).isTrue();
        assertNoLoneSurrogate(title);
    }

    private static void assertNoLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertThat(i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1)))
                        .as("high surrogate at %d of %s is paired", i, s).isTrue();
                i++;
            } else {
                assertThat(Character.isLowSurrogate(c)).as("lone low surrogate at %d of %s", i, s).isFalse();
            }
        }
    }

    @Test
    void aShortMessageIsTheTitle() {
        assertThat(title(TaskRequest.of("coder", "Fix the login bug"))).isEqualTo("Fix the login bug");
    }

    @Test
    void exactlyFiftyCharactersAreNotCut() {
        String text = "x".repeat(50);
        assertThat(title(TaskRequest.of("coder", text))).isEqualTo(text);
    }

    @Test
    void fiftyOneCharactersAreCutWithDots() {
        String text = "abcdefghij".repeat(5) + "K";
        String title = title(TaskRequest.of("coder", text));
        assertCut(title, text);
    }

    @Test
    void aLongMessageIsCutWithDots() {
        String text = "Please refactor the payment module so that it uses the new gateway API and add tests";
        String title = title(TaskRequest.of("coder", text));
        assertCut(title, text);
    }

    @Test
    void theCutNeverSplitsASurrogatePair() {
        // an emoji straddling each plausible cut position (47 and 50 characters)
        for (int at : new int[] {45, 46, 47, 48, 49, 50}) {
            String text = "a".repeat(at) + "😀" + "b".repeat(60);
            String title = title(TaskRequest.of("coder", text));
            assertCut(title, text);
        }
        String emojis = "😀".repeat(60);
        assertCut(title(TaskRequest.of("coder", emojis)), emojis);
    }

    @Test
    void contentBlocksGiveTheFirstTextBlock() {
        List<Map<String, Object>> blocks = List.of(
                Map.of("type", "image", "source", Map.of("url", "https://example.org/a.png")),
                Map.of("type", "text", "text", "Describe this picture"),
                Map.of("type", "text", "text", "second text"));
        assertThat(title(TaskRequest.builder("coder").message(TaskMessage.content(blocks)).build()))
                .isEqualTo("Describe this picture");
    }

    @Test
    void aLongTextBlockIsCutLikeAMessage() {
        String text = "z".repeat(49) + "😀" + "tail".repeat(10);
        List<Map<String, Object>> blocks = List.of(Map.of("type", "text", "text", text));
        assertCut(title(TaskRequest.builder("coder").message(TaskMessage.content(blocks)).build()), text);
    }

    @Test
    void contentWithoutTextIsAnAttachmentMessage() {
        List<Map<String, Object>> blocks = List.of(Map.of("type", "image", "source", Map.of("url", "u")),
                Map.of("type", "file", "name", "report.pdf"));
        assertThat(title(TaskRequest.builder("coder").message(TaskMessage.content(blocks)).build()))
                .isEqualTo("[Attachment message]");
    }

    @Test
    void noMessageGivesTaskWithTheAgentName() {
        assertThat(title(TaskRequest.builder("coder").build())).isEqualTo("Task with Coder");
        assertThat(title(TaskRequest.builder("helper").build())).isEqualTo("Task with Helper");
    }

    @Test
    void anExplicitTitleWins() {
        assertThat(title(TaskRequest.builder("coder").text("some message").title("My title").build()))
                .isEqualTo("My title");
    }
}
