package io.flotilla.bench;

/**
 * One entry of {@code --only}: a workload, measured on every executor it applies to, each
 * measurement handed to {@link Session#emit(Row)}.
 *
 * @param name the name {@code --only} takes
 * @param body what it runs
 */
record Benchmark(String name, Body body) {
  /** The measurement itself. */
  @FunctionalInterface
  interface Body {
    void run(Session session) throws Exception;
  }
}
