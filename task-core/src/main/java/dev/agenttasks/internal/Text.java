package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;

/**
 * Checks of the text a store would otherwise change without a word: a lone UTF-16 surrogate becomes
 * {@code ?} when encoded to UTF-8, a NUL ends the string for many readers of a SQL column, and other
 * control characters are dropped or mangled by terminals, logs and HTML. Such input is rejected with an
 * {@link InvalidRequestException} before anything is written.
 */
public final class Text {

    private Text() {
    }

    /**
     * A single-line value (an id, a title, a work directory, metadata): no lone surrogate and no control
     * character at all (C0, DEL, C1).
     *
     * @param s     the value, not null
     * @param field the input's name, for the exception
     * @throws InvalidRequestException if it has one
     */
    public static void checkPlain(String s, String field) {
        check(s, field, false);
    }

    /**
     * Message text: like {@link #checkPlain} but tab, line feed and carriage return are allowed.
     *
     * @param s     the text, not null
     * @param field the input's name, for the exception
     * @throws InvalidRequestException if it has a lone surrogate or another control character
     */
    public static void checkMessage(String s, String field) {
        check(s, field, true);
    }

    private static void check(String s, String field, boolean lines) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                if (lines && (c == '\t' || c == '\n' || c == '\r')) {
                    continue;
                }
                throw new InvalidRequestException(field, field + " has a control character (U+"
                        + String.format("%04X", (int) c) + ") at index " + i
                        + (lines ? "; only tab, line feed and carriage return are allowed" : ""));
            }
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    i++;
                } else {
                    throw loneSurrogate(field, i);
                }
            }
        }
    }

    static InvalidRequestException loneSurrogate(String field, int index) {
        return new InvalidRequestException(field, field + " has a lone UTF-16 surrogate at index " + index
                + " (not valid Unicode; it can not be stored as UTF-8 unchanged)");
    }

    /**
     * Whether a text shows nothing: it is empty or made only of whitespace, separators, format
     * characters (zero-width space and joiners, the byte-order mark, bidi marks), control characters,
     * non-spacing marks (combining accents, variation selectors), and the blank fillers (Hangul fillers, the blank
     * Braille pattern).
     *
     * @param s the text, not null
     * @return true if no character of it is visible
     */
    public static boolean isInvisible(String s) {
        int n = s.length();
        for (int i = 0; i < n; ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (!invisible(cp)) {
                return false;
            }
        }
        return true;
    }

    private static boolean invisible(int cp) {
        if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
            return true;
        }
        switch (Character.getType(cp)) {
            case Character.FORMAT:
            case Character.CONTROL:
            case Character.NON_SPACING_MARK:
            case Character.SURROGATE:
                return true;
            default:
                break;
        }
        return cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0 || cp == 0x2800;
    }
}
