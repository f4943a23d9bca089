package io.flotilla.functions;

import io.flotilla.SerializableFunction;

/**
 * The function of a job-service job, as workers receive it: a registered function's name, looked up
 * when it runs in the job's class loader (which sees shipped jars before the worker's own class path).
 * Inputs and results stay bytes, in the function's declared encoding.
 */
public final class NamedCall implements SerializableFunction<byte[], byte[]> {
  private static final long serialVersionUID = 1L;

  private final String name;

  public NamedCall(String name) {
    this.name = name;
  }

  @Override
  public byte[] apply(byte[] input) throws Exception {
    FunctionRegistry registry = FunctionRegistry.of(Thread.currentThread().getContextClassLoader());
    NamedFunction function =
        registry
            .find(name)
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        "no function named '" + name + "' is registered on this worker or in the job's code"));
    return function.call(input);
  }
}
