package io.flotilla.bench;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one JSON shape the benchmark speaks, on both sides of the Python pipe: a flat object whose
 * values are strings, numbers, booleans or null. Nested objects and arrays are rejected: no line of
 * either side has them, so one is a sign that the two sides disagree.
 */
final class Json {
  /**
   * Six significant digits: more than any of these measurements can resolve, and lines stay short.
   */
  private static final MathContext DIGITS = new MathContext(6);

  /**
   * Plain decimals, as Python prints them: 1229840 rather than 1.22984E+6. Thread-safe once built.
   */
  private static final JsonMapper MAPPER =
      JsonMapper.builder().enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN).build();

  private Json() {}

  /**
   * @param fields values of type String, Integer, Long, Double, Float, Boolean or null, in output
   *     order
   * @return one line, without a line break
   * @throws IllegalArgumentException for a value of another type, or a non-finite number
   */
  static String write(Map<String, ?> fields) {
    Map<String, Object> values = new LinkedHashMap<>();
    fields.forEach((key, value) -> values.put(key, value(key, value)));
    try {
      return MAPPER.writeValueAsString(values);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "cannot write " + fields + ": " + e.getOriginalMessage(), e);
    }
  }

  private static Object value(String key, Object v) {
    if (v == null
        || v instanceof String
        || v instanceof Boolean
        || v instanceof Integer
        || v instanceof Long) {
      return v;
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (!Double.isFinite(d)) {
        throw new IllegalArgumentException("\"" + key + "\" is not a finite number: " + d);
      }
      return new BigDecimal(d).round(DIGITS).stripTrailingZeros();
    }
    throw new IllegalArgumentException(
        "\"" + key + "\" has a value JSON lines here cannot hold: " + v.getClass());
  }

  /**
   * @param line one flat JSON object
   * @return its fields in order; integral numbers as Long, others as Double
   * @throws IllegalArgumentException if the line is not such an object, naming the offset
   */
  static Map<String, Object> parse(String line) {
    // Token by token rather than into a tree: a nested value is refused where it starts, with its
    // offset.
    try (JsonParser p = MAPPER.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw error(p, "expected '{'", line);
      }
      Map<String, Object> fields = new LinkedHashMap<>();
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        String key = p.currentName();
        JsonToken v = p.nextToken();
        if (v == null) {
          throw error(p, "unexpected end", line);
        }
        fields.put(
            key,
            switch (v) {
              case VALUE_STRING -> p.getText();
              case VALUE_NUMBER_INT -> p.getLongValue();
              case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
              case VALUE_TRUE -> true;
              case VALUE_FALSE -> false;
              case VALUE_NULL -> null;
              default -> throw error(p, "expected a string, number, boolean or null", line);
            });
      }
      if (p.nextToken() != null) {
        throw error(p, "text after the object", line);
      }
      return fields;
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          e.getOriginalMessage() + " at offset " + e.getLocation().getCharOffset() + " of " + line,
          e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static IllegalArgumentException error(JsonParser p, String what, String line) {
    return new IllegalArgumentException(
        what + " at offset " + p.currentTokenLocation().getCharOffset() + " of " + line);
  }
}
