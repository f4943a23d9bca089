package io.flotilla.bench;

/**
 * One entry of {@code --only}: a workload, measured on every executor it applies to, each
 * measurement handed to {@link Session#emit(Row)}.
 *
 * @param name the name {@code --only} takes
 * @param body what it runs
 * @param byDefault whether a run without {@code --only} includes it; one that is not runs only when
 *     named
 */
record Benchmark(String name, Body body, boolean byDefault) {
  /** A benchmark that every run without {@code --only} includes. */
  Benchmark(String name, Body body) {
    this(name, body, true);
  }

  /** The measurement itself. */
  @FunctionalInterface
  interface Body {
    void run(Session session) throws Exception;
  }
}
