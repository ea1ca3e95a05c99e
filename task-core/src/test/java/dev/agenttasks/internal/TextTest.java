package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TextTest {

    @Test
    void whatTheChecksRejectIsWhatUtf8WouldChange() {
        for (String s : List.of("\uD800", "a\uDBFFb", "\uDC00x", "x\uDFFF", "\uDE00\uD83D")) {
            String roundTrip = new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
            assertThat(roundTrip).as("UTF-8 changes %s", s).isNotEqualTo(s);
            assertThatThrownBy(() -> Text.checkPlain(s, "title")).isInstanceOfSatisfying(InvalidRequestException.class,
                    e -> assertThat(e.field()).isEqualTo("title"));
            assertThatThrownBy(() -> Text.checkMessage(s, "message")).isInstanceOf(InvalidRequestException.class);
            assertThatThrownBy(() -> Json.copyObject(Map.of("k", s), "options", 1000))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("options"));
            assertThatThrownBy(() -> Json.copyEncoded(Map.of(s, 1), "data", 1000))
                    .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("data"));
        }
        String pairs = "😀 🚀 \uD83D\uDE00 Grüße ∑";
        assertThat(new String(pairs.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(pairs);
        assertThatCode(() -> Text.checkPlain(pairs, "title")).doesNotThrowAnyException();
        assertThatCode(() -> Json.copyObject(Map.of(pairs, pairs), "options", 1000)).doesNotThrowAnyException();
    }

    @Test
    void jsonSizeIsStillTheUtf8Length() {
        // 20 chars each: ASCII (20 bytes), 2-byte é (40 bytes), surrogate pairs 😀 (4 bytes per pair: 40 bytes)
        long ascii = smallestBudget("a".repeat(20));
        assertThat(smallestBudget("é".repeat(20))).isEqualTo(ascii + 20);
        assertThat(smallestBudget("😀".repeat(10))).isEqualTo(ascii + 20);
        assertThat(smallestBudget("€".repeat(20))).isEqualTo(ascii + 40);
    }

    private static long smallestBudget(String value) {
        for (long max = 1; max < 1000; max++) {
            try {
                Json.copyObject(Map.of("k", value), "options", max);
                return max;
            } catch (dev.agenttasks.PayloadTooLargeException e) {
                // try a larger budget
            }
        }
        throw new AssertionError("no budget fits " + value);
    }

    @Test
    void controlCharacters() {
        for (char c : new char[] {0, 1, 0x1b, 0x1f, 0x7f, 0x80, 0x9f}) {
            String s = "a" + c + "b";
            assertThatThrownBy(() -> Text.checkPlain(s, "x")).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining(String.format("U+%04X", (int) c));
            assertThatThrownBy(() -> Text.checkMessage(s, "x")).isInstanceOf(InvalidRequestException.class);
        }
        for (String s : List.of("a\tb", "a\nb", "a\r\nb")) {
            assertThatThrownBy(() -> Text.checkPlain(s, "x")).isInstanceOf(InvalidRequestException.class);
            assertThatCode(() -> Text.checkMessage(s, "x")).doesNotThrowAnyException();
        }
        assertThatCode(() -> Text.checkPlain("\u00a0\u00e9\u200b", "x")).doesNotThrowAnyException();
    }

    @Test
    void invisible() {
        for (String s : List.of("", " ", "\u200B", "\u200C\u200D", "\u2060", "\uFEFF", "\u00A0", "\u3000", "\u3164",
                "\u115F\u1160", "\uFFA0", "\u2800", "\u0301", "\uFE0F", "\u202E\u2066", "\u00AD", "\t\n")) {
            assertThat(Text.isInvisible(s)).as("%s", s.codePoints().mapToObj(Integer::toHexString).toList()).isTrue();
        }
        for (String s : List.of("a", "\u200Ba", ".", "😀", "e\u0301", "\u20DD", "\uE000", "\u0378")) {
            assertThat(Text.isInvisible(s)).as("%s", s.codePoints().mapToObj(Integer::toHexString).toList()).isFalse();
        }
    }
}
