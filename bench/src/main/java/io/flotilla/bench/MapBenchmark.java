package io.flotilla.bench;

import io.flotilla.MapResults;
import io.flotilla.PoolExecutor;
import io.flotilla.SerializableFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * A function over a list of items, on each of several executors ("lanes"): a serial loop, and
 * {@code map} with default options on a pool. One row per lane, then the Python side's rows.
 *
 * <p>Per lane: {@code warmUps} untimed runs over the warm-up items, then {@code repetitions} timed
 * runs over the items; the row reports the median. A run consumes every result and folds it into an
 * ordered checksum; lanes that disagree make the run fail.
 *
 * <p>Configured fluently, then {@link #run(Session)} once. Not thread-safe.
 *
 * @param <T> the item type
 * @param <R> the result type
 */
final class MapBenchmark<T, R> {
  /**
   * An executor to measure on.
   *
   * @param executor the row's executor field
   * @param pool the pool, from the run's pools; {@code null} for the serial loop
   * @param extras fields added to this lane's row
   */
  record Lane(String executor, Function<Pools, PoolExecutor> pool, Map<String, Object> extras) {
    /** A plain loop in this thread: the baseline. */
    static Lane serial() {
      return new Lane("serial", null, Map.of());
    }

    /** The run's default thread pool: N threads. */
    static Lane threads() {
      return new Lane("thread", Pools::threads, Map.of());
    }

    /** A thread pool of that many threads, for this workload only. */
    static Lane threads(int threads) {
      return new Lane("thread", pools -> pools.threads(threads), Map.of());
    }

    /** The run's default process pool: N single-threaded worker JVMs. */
    static Lane processes() {
      return new Lane("process", Pools::processes, Map.of());
    }

    /** N worker JVMs with that many threads each, for this workload only. */
    static Lane processes(int threadsPerWorker) {
      return new Lane(
          "process",
          pools -> pools.processes(threadsPerWorker),
          Map.of("threads_per_worker", threadsPerWorker));
    }
  }

  private final String name;
  private final SerializableFunction<T, R> fn;
  private final List<T> items;
  private List<Lane> lanes = List.of(Lane.serial(), Lane.threads(), Lane.processes());
  private int warmUps;
  private List<T> warmUpItems = List.of();
  private int repetitions = 1;
  private ToLongFunction<R> checksum = r -> Objects.hashCode(r);
  private BiConsumer<Row, Double> extras = (row, seconds) -> {};
  private final List<PythonRun> pythonRuns = new ArrayList<>();

  private record PythonRun(List<String> args, boolean once) {}

  /**
   * @param name the workload's name
   * @param fn the function, the same on every executor
   * @param items the timed runs' input
   */
  MapBenchmark(String name, SerializableFunction<T, R> fn, List<T> items) {
    this.name = name;
    this.fn = fn;
    this.items = items;
  }

  /** Replaces the default lanes (serial, N threads, N worker JVMs). */
  MapBenchmark<T, R> lanes(Lane... lanes) {
    this.lanes = List.of(lanes);
    return this;
  }

  /** Untimed runs per lane before the timed ones, over these items. */
  MapBenchmark<T, R> warmUp(int runs, List<T> items) {
    this.warmUps = runs;
    this.warmUpItems = items;
    return this;
  }

  /** Timed runs per lane; the median is reported. */
  MapBenchmark<T, R> repetitions(int runs) {
    this.repetitions = runs;
    return this;
  }

  /** How a result enters the checksum (default: its {@code hashCode}). */
  MapBenchmark<T, R> checksum(ToLongFunction<R> checksum) {
    this.checksum = checksum;
    return this;
  }

  /** Adds this workload's own fields to each row, from the row and its median seconds. */
  MapBenchmark<T, R> extras(BiConsumer<Row, Double> extras) {
    this.extras = extras;
    return this;
  }

  /**
   * Adds a run of the Python side after the Java lanes (skipped when there is no Python), with as
   * many timed repetitions as the Java lanes. Python has no JIT to warm, and its worker processes
   * are started before the clock: a full run gives it one untimed run (for first-use costs such as
   * page faults) when the Java lanes have warm-ups, a quick run none.
   *
   * @param args the script's arguments: the workload and its options, {@code --workers} included
   */
  MapBenchmark<T, R> python(String... args) {
    pythonRuns.add(new PythonRun(List.of(args), false));
    return this;
  }

  /**
   * Adds a single timed run of the Python side, without warm-up: for settings too slow to repeat.
   *
   * @param args the script's arguments: the workload and its options, {@code --workers} included
   */
  MapBenchmark<T, R> pythonOnce(String... args) {
    pythonRuns.add(new PythonRun(List.of(args), true));
    return this;
  }

  /** Measures every lane, then runs the Python side; rows go to the session as they are ready. */
  void run(Session session) throws Exception {
    Long agreed = null;
    String agreedBy = null;
    for (Lane lane : lanes) {
      PoolExecutor pool = lane.pool() == null ? null : lane.pool().apply(session.pools());
      session.progress(
          "%s: %s (%d items, %d timed runs)...", name, lane.executor(), items.size(), repetitions);
      Timing.Measured m =
          Timing.median(
              warmUps,
              session.warmFor(),
              () -> runOnce(pool, warmUpItems),
              repetitions,
              () -> runOnce(pool, items));
      if (!m.consistent()) {
        session.inconsistent(
            name, lane.executor() + " gave different results from one run to the next");
      }
      if (agreed == null) {
        agreed = m.checksum();
        agreedBy = lane.executor();
      } else if (agreed != m.checksum()) {
        session.inconsistent(name, lane.executor() + " differs from " + agreedBy);
      }
      int workers = pool == null ? 1 : pool.workers();
      Row row = Row.of(name, lane.executor(), workers).items(items.size()).seconds(m.seconds());
      lane.extras().forEach(row::put);
      extras.accept(row, m.seconds());
      session.emit(row);
    }
    if (session.python().isPresent()) {
      for (PythonRun run : pythonRuns) {
        List<String> args = new ArrayList<>(run.args());
        int warm = run.once() || session.quick() ? 0 : Math.min(warmUps, 1);
        args.addAll(
            List.of(
                "--reps",
                String.valueOf(run.once() ? 1 : repetitions),
                "--warmups",
                String.valueOf(warm)));
        session.progress("%s: python-process...", name);
        session.python().get().run(args, session::emit);
      }
    }
  }

  private long runOnce(PoolExecutor pool, List<T> input) throws Exception {
    long sum = 17;
    if (pool == null) {
      for (T item : input) {
        sum = 31 * sum + checksum.applyAsLong(fn.apply(item));
      }
      return sum;
    }
    try (MapResults<R> results = pool.map(fn, input)) {
      while (results.hasNext()) {
        sum = 31 * sum + checksum.applyAsLong(results.next());
      }
    }
    return sum;
  }
}
