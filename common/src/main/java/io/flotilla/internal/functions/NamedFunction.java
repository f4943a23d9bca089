package io.flotilla.internal.functions;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.FileDescriptor;
import io.flotilla.proto.Encoding;
import io.flotilla.proto.FunctionInfo;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * One registered function: its name, how its input and result travel, and the method that runs it.
 */
public final class NamedFunction {
  private final String name;
  private final String description;
  private final Method method;
  private final PayloadFormat input;
  private final PayloadFormat output;

  NamedFunction(String name, String description, Method method) {
    this.name = name;
    this.description = description;
    this.method = method;
    // Jackson caches what it learns of types: functions from a job's jars get a mapper of their
    // own, so
    // that its caches go with them instead of holding their class loader.
    com.fasterxml.jackson.databind.ObjectMapper json =
        method.getDeclaringClass().getClassLoader() == NamedFunction.class.getClassLoader()
            ? PayloadFormat.Json.MAPPER
            : PayloadFormat.Json.MAPPER.copy();
    this.input = PayloadFormat.of(method.getGenericParameterTypes()[0], json);
    this.output = PayloadFormat.of(method.getGenericReturnType(), json);
  }

  public String name() {
    return name;
  }

  Class<?> declaringClass() {
    return method.getDeclaringClass();
  }

  /**
   * Reads an input as the function takes it, without running anything: what the coordinator checks
   * before it queues an input, so that a bad one is refused to its sender rather than failing
   * later.
   *
   * @param bytes the input
   * @return the parameter value
   * @throws InputRejected naming what is wrong
   */
  public Object decode(byte[] bytes) {
    return input.decode(bytes);
  }

  /**
   * Runs the function on one input.
   *
   * @param bytes the input
   * @return the result, encoded
   * @throws InputRejected if the input is not what the function takes
   * @throws Exception whatever the function throws
   */
  public byte[] call(byte[] bytes) throws Exception {
    Object argument = input.decode(bytes);
    Object result;
    try {
      result = method.invoke(null, argument);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Exception x) {
        throw x;
      }
      throw (Error) cause;
    }
    if (result == null && output.encoding() != Encoding.JSON) {
      throw new IllegalStateException(
          name + " returned null, which " + output.encoding() + " cannot carry");
    }
    return output.encode(result);
  }

  /**
   * @return e.g. {@code isprime(json integer) -> json boolean}
   */
  public String signature() {
    return name + "(" + shown(input) + ") -> " + shown(output);
  }

  private static String shown(PayloadFormat f) {
    String encoding = f.encoding().name().toLowerCase(Locale.ROOT);
    return f.typeName().isEmpty() ? encoding : encoding + " " + f.typeName();
  }

  /**
   * @return the function as the job service describes it
   */
  public FunctionInfo info() {
    FunctionInfo.Builder info =
        FunctionInfo.newBuilder()
            .setName(name)
            .setDescription(description)
            .setInput(input.encoding())
            .setInputType(input.typeName())
            .setOutput(output.encoding())
            .setOutputType(output.typeName())
            .setSignature(signature());
    Set<FileDescriptor> files = new LinkedHashSet<>();
    for (PayloadFormat f : new PayloadFormat[] {input, output}) {
      if (f instanceof PayloadFormat.Proto p) {
        addWithDependencies(p.descriptor().getFile(), files);
      }
    }
    if (!files.isEmpty()) {
      FileDescriptorSet.Builder set = FileDescriptorSet.newBuilder();
      files.forEach(file -> set.addFile(file.toProto()));
      info.setDescriptors(set.build().toByteString());
    }
    return info.build();
  }

  /** Dependencies first, as a descriptor pool is built. */
  private static void addWithDependencies(FileDescriptor file, Set<FileDescriptor> into) {
    if (into.contains(file)) {
      return;
    }
    for (FileDescriptor dependency : file.getDependencies()) {
      addWithDependencies(dependency, into);
    }
    into.add(file);
  }

  @Override
  public String toString() {
    return signature() + " in " + method.getDeclaringClass().getName();
  }
}
