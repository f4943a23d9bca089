package io.flotilla.functions;

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
import java.util.Collection;

/** How a function's inputs or results travel as bytes, chosen by their Java type. */
sealed interface PayloadFormat {
  Encoding encoding();

  /** @return the type as signatures show it: a JSON shape, a message's full name, or empty */
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
        throw new IllegalArgumentException(type.getName() + " is not a generated Protobuf message", e);
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
    // Strict: "12" is not an integer, 1.5 is not an integer, null is not an int, and one value only.
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
      if (c == int.class || c == long.class || c == short.class || c == Integer.class || c == Long.class
          || c == Short.class || c == BigInteger.class) {
        return "integer";
      }
      if (c == double.class || c == float.class || c == Double.class || c == Float.class
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
        return mapper.readValue(bytes, type);
      } catch (JacksonException e) {
        String why = e.getOriginalMessage();
        int line = why.indexOf('\n');
        why = (line < 0 ? why : why.substring(0, line)).replaceFirst(" \\(but might if coercion.*\\)$", "");
        throw new InputRejected("not JSON of type " + typeName() + ": " + why, e);
      } catch (java.io.IOException e) {
        throw new InputRejected("not JSON: " + e.getMessage(), e);
      }
    }

    @Override
    public byte[] encode(Object value) {
      try {
        return mapper.writeValueAsBytes(value);
      } catch (JacksonException e) {
        throw new IllegalStateException("the function's result cannot be written as JSON: " + e.getOriginalMessage(), e);
      }
    }
  }
}
