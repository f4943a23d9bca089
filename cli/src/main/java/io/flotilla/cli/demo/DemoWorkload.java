package io.flotilla.cli.demo;

import io.flotilla.MapOptions;
import io.flotilla.SerializableFunction;
import java.util.List;

/**
 * One workload of the demo: a function and its inputs, and how to time it fairly. Every executor
 * first runs the function untimed over {@code warmUpItems}, {@code warmUpRuns} times, so that the
 * JIT has compiled it in every JVM involved (each worker JVM starts cold, and Python has no JIT to
 * warm); then it runs the real items {@code repetitions} times and the median is reported.
 *
 * @param name short name, as in the JSON output
 * @param items the inputs
 * @param fn the function, the same for every executor
 * @param repetitions timed runs per executor
 * @param warmUpRuns untimed runs before them
 * @param warmUpItems the inputs of the untimed runs
 * @param options the pools' map options, the same for both pools
 * @param <T> the item type
 * @param <R> the result type
 */
public record DemoWorkload<T, R>(
    String name,
    List<T> items,
    SerializableFunction<T, R> fn,
    int repetitions,
    int warmUpRuns,
    List<T> warmUpItems,
    MapOptions options) {

  /** A workload mapped with the default options. */
  public DemoWorkload(
      String name,
      List<T> items,
      SerializableFunction<T, R> fn,
      int repetitions,
      int warmUpRuns,
      List<T> warmUpItems) {
    this(name, items, fn, repetitions, warmUpRuns, warmUpItems, MapOptions.defaults());
  }
}
