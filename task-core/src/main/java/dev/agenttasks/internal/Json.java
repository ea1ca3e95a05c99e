package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.PayloadTooLargeException;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Validates JSON-compatible values and makes deep immutable copies of them, measuring their JSON size
 * as it goes. Integral numbers become {@link Long} (or {@link BigInteger} beyond its range), other
 * numbers {@link Double}, so data compares equal after a round trip through
 * any JSON store.
 */
public final class Json {
    private static final int MAX_DEPTH = 64;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** An immutable JSON object that carries its own compact JSON text. */
    static final class EncodedMap extends java.util.AbstractMap<String, Object>
            implements dev.agenttasks.spi.JsonEncoded {
        private final Map<String, Object> map;
        private final String json;

        EncodedMap(Map<String, Object> map, String json) {
            this.map = map;
            this.json = json;
        }

        @Override
        public java.util.Set<Entry<String, Object>> entrySet() {
            return map.entrySet();
        }

        @Override
        public Object get(Object key) {
            return map.get(key);
        }

        @Override
        public boolean containsKey(Object key) {
            return map.containsKey(key);
        }

        @Override
        public int size() {
            return map.size();
        }

        @Override
        public String json() {
            return json;
        }
    }

    /**
     * Copies event data like {@link #copyObject} and encodes it once, so the store writer does not have to.
     *
     * @param in       the data
     * @param field    name used in exceptions
     * @param maxBytes size limit
     * @return an immutable copy that implements {@link dev.agenttasks.spi.JsonEncoded}
     */
    public static Map<String, Object> copyEncoded(Map<String, ?> in, String field, long maxBytes) {
        Budget b = new Budget(field, maxBytes);
        Map<String, Object> copy;
        if (in == null) {
            b.add(2);
            copy = Map.of();
        } else {
            copy = copyMap(in, b, 0);
        }
        // the measured size is the UTF-8 length, at least the char count: the builder never grows
        StringBuilder sb = b.size <= REUSED_BUILDER_CHARS ? BUILDER.get()
                : new StringBuilder((int) Math.min(Integer.MAX_VALUE - 8, b.size + 16));
        sb.setLength(0);
        write(sb, copy);
        return new EncodedMap(copy, sb.toString());
    }

    /** Events up to this size are encoded in a builder kept per thread: the text is copied out once. */
    private static final int REUSED_BUILDER_CHARS = 8192;
    /** Grows to the largest such event the thread encoded (at most about twice the bound above). */
    private static final ThreadLocal<StringBuilder> BUILDER = ThreadLocal.withInitial(() -> new StringBuilder(256));

    /**
     * Appends the compact JSON text of a value made by this class.
     *
     * @param sb where to write
     * @param v  a JSON-compatible value
     */
    static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String) {
            writeString(sb, (String) v);
        } else if (v instanceof Map) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                writeString(sb, (String) e.getKey());
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof List) {
            sb.append('[');
            boolean first = true;
            for (Object o : (List<?>) v) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else if (v instanceof Long) {
            sb.append(((Long) v).longValue()); // the digits go straight into the builder, no String
        } else if (v instanceof Double) {
            sb.append(((Double) v).doubleValue()); // the same text as Double.toString
        } else {
            sb.append(v); // BigInteger, Boolean, other numbers: their toString is valid JSON
        }
    }

    private static void writeString(StringBuilder sb, String s) {
        sb.append('"');
        int n = s.length();
        int run = 0; // start of the current run of characters that need no escape
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c != '"' && c != '\\' && c >= 0x20) {
                continue;
            }
            sb.append(s, run, i);
            run = i + 1;
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else {
                switch (c) {
                    case '\n': sb.append("\\n"); break;
                    case '\r': sb.append("\\r"); break;
                    case '\t': sb.append("\\t"); break;
                    default: sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 15]);
                }
            }
        }
        sb.append(s, run, n).append('"');
    }

    private Json() {
    }

    /** Accumulates the approximate UTF-8 JSON size and enforces the limit. */
    private static final class Budget {
        final String field;
        final long limit;
        long size;

        Budget(String field, long limit) {
            this.field = field;
            this.limit = limit;
        }

        void add(long n) {
            size += n;
            if (size > limit) {
                throw new PayloadTooLargeException(field, size, limit);
            }
        }
    }

    /**
     * Copies a JSON object.
     *
     * @param in       the map (null means empty)
     * @param field    name used in exceptions
     * @param maxBytes size limit of the JSON encoding
     * @return an immutable, insertion-ordered copy
     * @throws InvalidRequestException  if a value is not JSON-compatible
     * @throws PayloadTooLargeException if it is over {@code maxBytes}
     */
    public static Map<String, Object> copyObject(Map<String, ?> in, String field, long maxBytes) {
        Budget b = new Budget(field, maxBytes);
        if (in == null) {
            b.add(2);
            return Map.of();
        }
        return copyMap(in, b, 0);
    }

    /**
     * Copies a JSON array of objects (content blocks).
     *
     * @param in       the list
     * @param field    name used in exceptions
     * @param maxBytes size limit
     * @return an immutable copy
     */
    @SuppressWarnings("unchecked")
    public static List<Map<String, Object>> copyObjectList(List<? extends Map<String, ?>> in, String field,
                                                           long maxBytes) {
        Budget b = new Budget(field, maxBytes);
        List<Map<String, Object>> out = new ArrayList<>(in.size());
        b.add(2);
        for (Object o : in) {
            if (!(o instanceof Map)) {
                throw new InvalidRequestException(field, field + " must be a list of JSON objects");
            }
            out.add(copyMap((Map<String, ?>) o, b, 1));
            b.add(1);
        }
        return Collections.unmodifiableList(out);
    }

    private static Map<String, Object> copyMap(Map<?, ?> in, Budget b, int depth) {
        if (depth > MAX_DEPTH) {
            throw new InvalidRequestException(b.field, b.field + " is nested too deeply");
        }
        LinkedHashMap<String, Object> out = new LinkedHashMap<>(Math.max(4, in.size() * 2));
        b.add(2);
        for (Map.Entry<?, ?> e : in.entrySet()) {
            if (!(e.getKey() instanceof String)) {
                throw new InvalidRequestException(b.field, b.field + " has a key that is not a string: " + e.getKey());
            }
            String k = (String) e.getKey();
            b.add(stringSize(k, b) + 2);
            out.put(k, copyValue(e.getValue(), b, depth + 1));
        }
        return Collections.unmodifiableMap(out);
    }

    private static Object copyValue(Object v, Budget b, int depth) {
        if (v == null) {
            b.add(4);
            return null;
        }
        if (v instanceof String) {
            b.add(stringSize((String) v, b));
            return v;
        }
        if (v instanceof Boolean) {
            b.add(5);
            return v;
        }
        if (v instanceof Long) {
            b.add(20);
            return v; // immutable: no new box
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            b.add(20);
            return ((Number) v).longValue();
        }
        if (v instanceof BigInteger) {
            BigInteger bi = (BigInteger) v;
            b.add(bi.bitLength() / 3 + 2);
            return bi.bitLength() < 64 ? (Object) bi.longValue() : bi;
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                throw new InvalidRequestException(b.field, b.field + " has a number JSON cannot hold: " + d);
            }
            b.add(24);
            return v instanceof Double ? v : (Object) d;
        }
        if (v instanceof BigDecimal) {
            double d = ((BigDecimal) v).doubleValue();
            if (Double.isInfinite(d)) {
                throw new InvalidRequestException(b.field, b.field + " has a number JSON readers cannot hold: " + v);
            }
            b.add(24);
            return d; // JSON stores read decimals back as Double
        }
        if (v instanceof Map) {
            return copyMap((Map<?, ?>) v, b, depth);
        }
        if (v instanceof Collection || v instanceof Object[]) {
            if (depth > MAX_DEPTH) {
                throw new InvalidRequestException(b.field, b.field + " is nested too deeply");
            }
            Collection<?> c = v instanceof Object[] ? java.util.Arrays.asList((Object[]) v) : (Collection<?>) v;
            List<Object> out = new ArrayList<>(c.size());
            b.add(2);
            for (Object o : c) {
                out.add(copyValue(o, b, depth + 1));
                b.add(1);
            }
            return Collections.unmodifiableList(out);
        }
        throw new InvalidRequestException(b.field, b.field + " has a value that is not JSON-compatible: "
                + v.getClass().getName());
    }

    private static long stringSize(String s, Budget b) {
        int n = s.length();
        // ASCII fast path; otherwise the exact UTF-8 length
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80 || c < 0x20 || c == '"' || c == '\\') {
                return utf8Length(s, b.field) + 2L + escapes(s);
            }
        }
        return n + 2L;
    }

    /** The UTF-8 length; a lone surrogate (which UTF-8 would turn into {@code ?}) is rejected. */
    private static long utf8Length(String s, String field) {
        int n = s.length();
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (!Character.isSurrogate(c)) {
                bytes += 3;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                throw Text.loneSurrogate(field, i);
            }
        }
        return bytes;
    }

    private static long escapes(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20) {
                n += 5;
            } else if (c == '"' || c == '\\') {
                n += 1;
            }
        }
        return n;
    }
}
