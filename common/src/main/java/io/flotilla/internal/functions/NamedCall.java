package io.flotilla.internal.functions;

import io.flotilla.SerializableFunction;

/**
 * The function of a job-service job, as workers receive it: a registered function's name, looked up
 * when it runs in the job's class loader (which sees shipped jars before the worker's own class
 * path). Inputs and results stay bytes, in the function's declared encoding.
 */
public final class NamedCall implements SerializableFunction<byte[], byte[]> {
  private static final long serialVersionUID = 1L;

  private final String name;

  /** The function found, and the loader it was looked up in: one lookup per job, not per input. */
  private transient volatile Resolved resolved;

  private record Resolved(ClassLoader loader, NamedFunction function) {}

  public NamedCall(String name) {
    this.name = name;
  }

  @Override
  public byte[] apply(byte[] input) throws Exception {
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    Resolved r = resolved;
    if (r == null || r.loader() != loader) {
      NamedFunction function =
          FunctionRegistry.of(loader)
              .find(name)
              .orElseThrow(
                  () ->
                      new IllegalArgumentException(
                          "no function named '"
                              + name
                              + "' is registered on this worker or in the job's code"));
      r = new Resolved(loader, function);
      resolved = r;
    }
    return r.function().call(input);
  }
}
