package io.flotilla.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void writesFlatObjectsCompactlyWithSixSignificantDigits() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("workload", "hash");
    fields.put("workers", 2L);
    fields.put("seconds", 1.23456789);
    fields.put("items_per_s", 1229843.7);
    fields.put("flat", true);
    fields.put("note", "a \"quoted\"\nline");
    assertThat(Json.write(fields))
        .isEqualTo(
            "{\"workload\":\"hash\",\"workers\":2,\"seconds\":1.23457,\"items_per_s\":1229840,"
                + "\"flat\":true,\"note\":\"a \\\"quoted\\\"\\nline\"}");
  }

  @Test
  void parsesWhatItWritesAndWhatPythonPrints() {
    Map<String, Object> parsed =
        Json.parse(
            "{\"workload\": \"map1m\", \"workers\": 2, \"seconds\": 0.813, \"p\": 1e-3, \"x\": null, \"ok\": false}");
    assertThat(parsed)
        .containsEntry("workload", "map1m")
        .containsEntry("workers", 2L)
        .containsEntry("seconds", 0.813)
        .containsEntry("p", 0.001)
        .containsEntry("x", null)
        .containsEntry("ok", false);
    assertThat(parsed.keySet()).containsExactly("workload", "workers", "seconds", "p", "x", "ok");
    assertThat(Json.parse(Json.write(parsed))).isEqualTo(parsed);
    assertThat(Json.parse("{\"s\":\"caf\\u00e9\"}")).containsEntry("s", "café");
  }

  @Test
  void writesSmallAndLargeNumbersPlainAndReadsThemBack() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("tiny", 1.5e-7);
    fields.put("whole", 3.0);
    fields.put("count", Long.MAX_VALUE);
    fields.put("s", "tab\there, caf\u00e9");
    String line = Json.write(fields);
    assertThat(line)
        .isEqualTo(
            "{\"tiny\":0.00000015,\"whole\":3,\"count\":9223372036854775807,"
                + "\"s\":\"tab\\there, caf\u00e9\"}");
    assertThat(Json.parse(line))
        .containsEntry("tiny", 1.5e-7)
        .containsEntry("whole", 3L)
        .containsEntry("count", Long.MAX_VALUE)
        .containsEntry("s", "tab\there, caf\u00e9");
    assertThat(Json.parse(" { } ")).isEmpty();
    assertThat(Json.write(Map.of("huge", 1.0e20))).isEqualTo("{\"huge\":100000000000000000000}");
  }

  @Test
  void rejectsWhatIsNotAFlatObject() {
    assertThatThrownBy(() -> Json.parse("{\"a\":{\"b\":1}}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("offset 5");
    assertThatThrownBy(() -> Json.parse("{\"a\":1}{\"b\":2}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Json.parse("[1]")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Json.parse("{\"a\":NaN}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Json.parse("{\"a\":99999999999999999999}"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Json.parse("{\"a\":[1]}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("offset 5");
    assertThatThrownBy(() -> Json.parse("{\"a\":1} x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Json.parse("{\"a\":1")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Json.write(Map.of("a", Double.NaN)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Json.write(Map.of("a", new int[0])))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
