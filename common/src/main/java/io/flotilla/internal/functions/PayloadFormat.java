package io.flotilla.internal.functions;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.flotilla.proto.Encoding;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collection;

/** How a function's inputs or results travel as bytes, chosen by their Java type. */
sealed interface PayloadFormat {
  Encoding encoding();

  /**
   * @return the type as signatures show it: a JSON shape, a message's full name, or empty
   */
  String typeName();

  /**
   * @param bytes an input as it came
   * @return it as the function's parameter
   * @throws InputRejected naming what is wrong with it
   */
  Object decode(byte[] bytes);

  byte[] encode(Object value);

  /**
   * @param type a parameter or return type
   * @param json the mapper for JSON types
   */
  static PayloadFormat of(Type type, ObjectMapper json) {
    if (type == byte[].class) {
      return new Raw();
    }
    if (type instanceof Class<?> c && Message.class.isAssignableFrom(c)) {
      return Proto.of(c);
    }
    return new Json(json, json.constructType(type));
  }

  record Raw() implements PayloadFormat {
    @Override
    public Encoding encoding() {
      return Encoding.BYTES;
    }

    @Override
    public String typeName() {
      return "";
    }

    @Override
    public Object decode(byte[] bytes) {
      return bytes;
    }

    @Override
    public byte[] encode(Object value) {
      return (byte[]) value;
    }
  }

  record Proto(Descriptors.Descriptor descriptor, Parser<?> parser) implements PayloadFormat {
    static Proto of(Class<?> type) {
      try {
        Message prototype = (Message) type.getMethod("getDefaultInstance").invoke(null);
        return new Proto(prototype.getDescriptorForType(), prototype.getParserForType());
      } catch (ReflectiveOperationException e) {
        throw new IllegalArgumentException(
            type.getName() + " is not a generated Protobuf message", e);
      }
    }

    @Override
    public Encoding encoding() {
      return Encoding.PROTOBUF;
    }

    @Override
    public String typeName() {
      return descriptor.getFullName();
    }

    @Override
    public Object decode(byte[] bytes) {
      try {
        return parser.parseFrom(bytes);
      } catch (InvalidProtocolBufferException e) {
        throw new InputRejected("not a serialized " + typeName() + ": " + e.getMessage(), e);
      }
    }

    @Override
    public byte[] encode(Object value) {
      return ((Message) value).toByteArray();
    }
  }

  record Json(ObjectMapper mapper, JavaType type) implements PayloadFormat {
    // Strict: "12" is not an integer, 1.5 is not an integer, null is not an int, and one value
    // only.
    static final ObjectMapper MAPPER =
        JsonMapper.builder()
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
            .build();

    @Override
    public Encoding encoding() {
      return Encoding.JSON;
    }

    @Override
    public String typeName() {
      Class<?> c = type.getRawClass();
      if (c == boolean.class || c == Boolean.class) {
        return "boolean";
      }
      if (c == int.class
          || c == long.class
          || c == short.class
          || c == Integer.class
          || c == Long.class
          || c == Short.class
          || c == BigInteger.class) {
        return "integer";
      }
      if (c == double.class
          || c == float.class
          || c == Double.class
          || c == Float.class
          || c == BigDecimal.class) {
        return "number";
      }
      if (c == String.class) {
        return "string";
      }
      if (c.isArray() || Collection.class.isAssignableFrom(c)) {
        return "array";
      }
      if (JsonNode.class.isAssignableFrom(c) || c == Object.class) {
        return "any";
      }
      return "object";
    }

    @Override
    public Object decode(byte[] bytes) {
      try {
        return mapper.readValue(utf8(bytes), type);
      } catch (JacksonException e) {
        String why = e.getOriginalMessage();
        int line = why.indexOf('\n');
        why =
            (line < 0 ? why : why.substring(0, line))
                .replaceFirst(" \\(but might if coercion.*\\)$", "");
        throw new InputRejected("not JSON of type " + typeName() + ": " + why, e);
      }
    }

    /**
     * Reads JSON text as UTF-8, the only encoding the job service takes. Jackson, given bytes,
     * would guess UTF-16 or UTF-32 from a byte-order mark or from the pattern of zero bytes;
     * decoded here first, such input is refused instead, naming its first byte that cannot be in
     * UTF-8 JSON.
     *
     * @throws InputRejected naming the byte and its offset
     */
    static String utf8(byte[] bytes) {
      // A raw NUL is never in JSON text, not even in a string, but it is valid UTF-8: it is the
      // byte that
      // gives UTF-16 and UTF-32 text away when it has no byte-order mark.
      int nul = 0;
      while (nul < bytes.length && bytes[nul] != 0) {
        nul++;
      }
      ByteBuffer in = ByteBuffer.wrap(bytes, 0, nul);
      // UTF-8 never decodes to more chars than it has bytes.
      CharBuffer out = CharBuffer.allocate(nul);
      CharsetDecoder decoder =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT);
      CoderResult result = decoder.decode(in, out, true);
      if (!result.isError()) {
        result = decoder.flush(out);
      }
      if (result.isError()) {
        throw notUtf8(bytes, in.position(), "does not start a valid UTF-8 character");
      }
      if (nul < bytes.length) {
        throw notUtf8(bytes, nul, "is a NUL, which JSON text never holds");
      }
      out.flip();
      // A UTF-8 byte-order mark is allowed (RFC 8259 lets readers ignore it), as Jackson did.
      if (out.hasRemaining() && out.charAt(0) == '\uFEFF') {
        out.position(1);
      }
      return out.toString();
    }

    private static InputRejected notUtf8(byte[] bytes, int offset, String why) {
      return new InputRejected(
          String.format(
              "not UTF-8 JSON: byte 0x%02X at offset %d %s (JSON inputs are UTF-8, never UTF-16 or UTF-32)",
              bytes[offset] & 0xff, offset, why),
          null);
    }

    @Override
    public byte[] encode(Object value) {
      try {
        return mapper.writeValueAsBytes(value);
      } catch (JacksonException e) {
        throw new IllegalStateException(
            "the function's result cannot be written as JSON: " + e.getOriginalMessage(), e);
      }
    }
  }
}
