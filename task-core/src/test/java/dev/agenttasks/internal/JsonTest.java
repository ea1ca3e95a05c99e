package dev.agenttasks.internal;

import dev.agenttasks.InvalidRequestException;
import dev.agenttasks.PayloadTooLargeException;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JsonTest {

    @Test
    void copiesDeeplyAndImmutably() {
        Map<String, Object> inner = new HashMap<>();
        inner.put("n", 1);
        List<Object> list = new ArrayList<>(List.of("a", 2.5f, true));
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("inner", inner);
        in.put("list", list);
        in.put("nothing", null);
        Map<String, Object> out = Json.copyObject(in, "data", 1000);
        inner.put("n", 2);
        list.add("late");
        assertThat(out).containsEntry("inner", Map.of("n", 1L));
        assertThat(out.get("list")).isEqualTo(List.of("a", 2.5d, true));
        assertThat(out).containsKey("nothing");
        assertThatThrownBy(() -> out.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> ((List<Object>) out.get("list")).add(1)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void normalisesNumbers() {
        Map<String, Object> out = Json.copyObject(Map.of("i", 1, "s", (short) 2, "big", BigInteger.TEN), "d", 1000);
        assertThat(out.get("i")).isEqualTo(1L);
        assertThat(out.get("s")).isEqualTo(2L);
        assertThat(out.get("big")).isEqualTo(10L);
    }

    @Test
    void rejectsValuesJsonCannotHold() {
        assertThatThrownBy(() -> Json.copyObject(Map.of("o", new Object()), "data", 1000))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("not JSON-compatible");
        assertThatThrownBy(() -> Json.copyObject(Map.of("nan", Double.NaN), "data", 1000))
                .isInstanceOf(InvalidRequestException.class);
        Map<Object, Object> badKey = new HashMap<>();
        badKey.put(1, "x");
        assertThatThrownBy(() -> Json.copyObject(Map.of("m", badKey), "data", 1000))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("key");
    }

    @Test
    void rejectsCyclesAsTooDeep() {
        Map<String, Object> cyclic = new HashMap<>();
        cyclic.put("self", cyclic);
        assertThatThrownBy(() -> Json.copyObject(cyclic, "data", 1 << 30))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("deep");
    }

    @Test
    void enforcesTheSizeLimit() {
        Map<String, Object> big = Map.of("s", "x".repeat(2000));
        assertThatThrownBy(() -> Json.copyObject(big, "data", 1024))
                .isInstanceOf(PayloadTooLargeException.class)
                .satisfies(e -> assertThat(((PayloadTooLargeException) e).field()).isEqualTo("data"));
        assertThat(Json.copyObject(big, "data", 4096)).hasSize(1);
    }

    @Test
    void countsMultiByteCharactersAsUtf8() {
        String chinese = "任务".repeat(200); // 400 chars, 1200 bytes
        assertThatThrownBy(() -> Json.copyObject(Map.of("s", chinese), "data", 1000))
                .isInstanceOf(PayloadTooLargeException.class);
    }

    @Test
    void encodesEventDataOnceAsCompactJson() {
        Map<String, Object> in = new LinkedHashMap<>();
        in.put("s", "a\"b\\c\n\u0001é");
        in.put("n", 42);
        in.put("d", 1.5);
        in.put("b", false);
        in.put("z", null);
        in.put("l", List.of(1, "x", Map.of("k", List.of())));
        Map<String, Object> out = Json.copyEncoded(in, "data", 1000);
        assertThat(((dev.agenttasks.spi.JsonEncoded) out).json())
                .isEqualTo("{\"s\":\"a\\\"b\\\\c\\n\\u0001é\",\"n\":42,\"d\":1.5,\"b\":false,\"z\":null,"
                        + "\"l\":[1,\"x\",{\"k\":[]}]}");
        assertThat(out).isEqualTo(Json.copyObject(in, "data", 1000));
        assertThatThrownBy(() -> out.put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
    }
}
