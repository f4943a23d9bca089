package io.flotilla.cli.jobs;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.flotilla.proto.Encoding;
import io.flotilla.proto.FunctionInfo;
import io.flotilla.proto.Result;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

/**
 * Inputs and results as JSON lines, whatever the function's encoding: JSON passes as it is,
 * Protobuf messages are written in their JSON form (read with the descriptors the coordinator
 * lists), and bytes are a JSON string (its UTF-8) or {@code {"base64": "..."}} in, and {@code
 * "base64"} out.
 *
 * <p>Each result line is {@code {"index":N,"value":V}}, {@code {"index":N,"base64":"..."}} or
 * {@code {"index":N,"error":{"type":T,"message":M}}}.
 */
final class PayloadText {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FunctionInfo function;
  private final Descriptor input;
  private final Descriptor output;

  private PayloadText(FunctionInfo function, Descriptor input, Descriptor output) {
    this.function = function;
    this.input = input;
    this.output = output;
  }

  static PayloadText of(FunctionInfo function) {
    if (function.getDescriptors().isEmpty()) {
      return new PayloadText(function, null, null);
    }
    try {
      Map<String, FileDescriptor> built = new HashMap<>();
      for (FileDescriptorProto file :
          FileDescriptorSet.parseFrom(function.getDescriptors()).getFileList()) {
        FileDescriptor[] dependencies =
            file.getDependencyList().stream().map(built::get).toArray(FileDescriptor[]::new);
        built.put(file.getName(), FileDescriptor.buildFrom(file, dependencies));
      }
      return new PayloadText(
          function, find(built, function.getInputType()), find(built, function.getOutputType()));
    } catch (InvalidProtocolBufferException | DescriptorValidationException e) {
      throw new IllegalStateException(
          "the coordinator's descriptors of "
              + function.getName()
              + " are unusable: "
              + e.getMessage(),
          e);
    }
  }

  private static Descriptor find(Map<String, FileDescriptor> files, String fullName) {
    for (FileDescriptor f : files.values()) {
      Descriptor d = find(f.getMessageTypes(), fullName);
      if (d != null) {
        return d;
      }
    }
    return null;
  }

  /** Searches messages and the messages nested in them. */
  private static Descriptor find(java.util.List<Descriptor> types, String fullName) {
    for (Descriptor d : types) {
      if (d.getFullName().equals(fullName)) {
        return d;
      }
      Descriptor nested = find(d.getNestedTypes(), fullName);
      if (nested != null) {
        return nested;
      }
    }
    return null;
  }

  /**
   * @param line one input, as a JSON line
   * @return it as the function takes it
   * @throws IllegalArgumentException saying what is wrong with the line
   */
  byte[] input(String line) {
    switch (function.getInput()) {
      case PROTOBUF -> {
        DynamicMessage.Builder message = DynamicMessage.newBuilder(input);
        try {
          JsonFormat.parser().merge(line, message);
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalArgumentException(
              "not the JSON form of " + function.getInputType() + ": " + e.getMessage());
        }
        return message.build().toByteArray();
      }
      case BYTES -> {
        JsonNode node = tree(line);
        if (node.isTextual()) {
          return node.textValue().getBytes(StandardCharsets.UTF_8);
        }
        if (node.isObject() && node.size() == 1 && node.path("base64").isTextual()) {
          try {
            return Base64.getDecoder().decode(node.path("base64").textValue());
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"base64\" is not Base64: " + e.getMessage());
          }
        }
        throw new IllegalArgumentException(
            function.getName() + " takes bytes: give a JSON string, or {\"base64\": \"...\"}");
      }
      default -> {
        // The coordinator checks JSON against the function's type, and says precisely what is
        // wrong.
        return line.getBytes(StandardCharsets.UTF_8);
      }
    }
  }

  private static JsonNode tree(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage());
    }
  }

  /**
   * @return the result as one JSON line, without its line break
   */
  String line(Result r) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("index", r.getIndex());
      if (r.hasError()) {
        g.writeObjectFieldStart("error");
        g.writeStringField("type", r.getError().getType());
        g.writeStringField("message", r.getError().getMessage());
        g.writeEndObject();
      } else if (function.getOutput() == Encoding.BYTES) {
        g.writeStringField(
            "base64", Base64.getEncoder().encodeToString(r.getValue().toByteArray()));
      } else if (function.getOutput() == Encoding.PROTOBUF) {
        g.writeFieldName("value");
        g.writeRawValue(
            JsonFormat.printer()
                .omittingInsignificantWhitespace()
                .print(DynamicMessage.parseFrom(output, r.getValue())));
      } else {
        g.writeFieldName("value");
        g.writeRawValue(r.getValue().toStringUtf8());
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out.toString();
  }
}
