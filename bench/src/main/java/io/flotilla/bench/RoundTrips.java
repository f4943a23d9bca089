package io.flotilla.bench;

import io.flotilla.PoolExecutor;
import io.flotilla.ProcessPool;
import io.flotilla.SerializableCallable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What one task costs when it does nothing: the pool's own overhead, on the default thread pool,
 * the default process pool and Python's {@code ProcessPoolExecutor} with the same number of
 * workers.
 *
 * <ul>
 *   <li>{@code submit}: submit n no-op tasks back to back, then wait for all; {@code items_per_s}
 *       is tasks per second. Median of the timed repetitions, after one untimed round of n/5.
 *   <li>{@code latency}: n times, submit one no-op task and wait for its result before the next;
 *       {@code p50_us} and {@code p99_us} are percentiles of those round trips, after n/10 untimed
 *       ones.
 * </ul>
 */
final class RoundTrips {
  private static final SerializableCallable<Object> NOOP = () -> null;

  private RoundTrips() {}

  static Benchmark submit() {
    return new Benchmark("submit", RoundTrips::submit);
  }

  static Benchmark latency() {
    return new Benchmark("latency", RoundTrips::latency);
  }

  private static List<PoolExecutor> pools(Session s) {
    return List.of(s.pools().threads(), s.pools().processes());
  }

  private static String executor(PoolExecutor pool) {
    return pool instanceof ProcessPool ? "process" : "thread";
  }

  private static void submit(Session s) throws Exception {
    int n = s.size(10_000, 2_000);
    int repetitions = s.size(3, 1);
    for (PoolExecutor pool : pools(s)) {
      s.progress("submit: %s (%d tasks, %d timed runs)...", executor(pool), n, repetitions);
      Timing.Measured m =
          Timing.median(
              1, s.warmFor(), () -> submitAll(pool, n / 5), repetitions, () -> submitAll(pool, n));
      s.emit(Row.of("submit", executor(pool), pool.workers()).items(n).seconds(m.seconds()));
    }
    if (s.python().isPresent()) {
      s.progress("submit: python-process...");
      s.python().get().run(args(s, "submit", n, "--reps", repetitions, "--warmups", 1), s::emit);
    }
  }

  /** Submits n no-op tasks back to back, then waits for them all; returns n. */
  static long submitAll(PoolExecutor pool, int n) {
    CompletableFuture<?>[] futures = new CompletableFuture<?>[n];
    for (int i = 0; i < n; i++) {
      futures[i] = pool.submit(NOOP);
    }
    CompletableFuture.allOf(futures).join();
    return n;
  }

  private static void latency(Session s) throws Exception {
    int n = s.size(10_000, 2_000);
    for (PoolExecutor pool : pools(s)) {
      s.progress("latency: %s (%d round trips)...", executor(pool), n);
      long warmStart = System.nanoTime();
      for (int i = 0; i < n / 10 || System.nanoTime() - warmStart < s.warmFor().toNanos(); i++) {
        pool.submit(NOOP).get();
      }
      long[] each = new long[n];
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        long t0 = System.nanoTime();
        pool.submit(NOOP).get();
        each[i] = System.nanoTime() - t0;
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Arrays.sort(each);
      s.emit(
          Row.of("latency", executor(pool), pool.workers())
              .items(n)
              .seconds(seconds)
              .latency(Timing.percentile(each, 50) / 1e3, Timing.percentile(each, 99) / 1e3));
    }
    if (s.python().isPresent()) {
      s.progress("latency: python-process...");
      s.python().get().run(args(s, "latency", n, "--warmups", n / 10), s::emit);
    }
  }

  private static List<String> args(Session s, String workload, int items, Object... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                workload,
                "--workers",
                String.valueOf(s.workers()),
                "--items",
                String.valueOf(items)));
    for (Object o : more) {
      args.add(String.valueOf(o));
    }
    return args;
  }
}
