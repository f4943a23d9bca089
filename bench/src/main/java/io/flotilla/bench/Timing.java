package io.flotilla.bench;

import java.time.Duration;
import java.util.Arrays;

/** How runs are timed: untimed warm-ups, then the median of timed repetitions. */
final class Timing {
  private Timing() {}

  /**
   * One run of a workload; returns a checksum of what it computed, so that executors can be
   * compared.
   */
  @FunctionalInterface
  interface Run {
    long run() throws Exception;
  }

  /**
   * The median time of timed runs, and the checksum they agreed on.
   *
   * @param seconds median wall-clock seconds of the timed runs
   * @param checksum the checksum of the last run
   * @param consistent whether every timed run gave the same checksum
   */
  record Measured(double seconds, long checksum, boolean consistent) {}

  /**
   * Runs {@code warmUp} untimed, {@code warmUps} times and for at least {@code warmFor}, then
   * {@code run} {@code repetitions} times timed.
   *
   * @param warmUps untimed runs first, so that the JIT has compiled the path in every JVM involved
   * @param warmFor the least time to spend in untimed runs: a fast workload's single warm-up run is
   *     over before the JIT has compiled its path, in the caller or in fresh worker JVMs
   * @param warmUp the untimed run (often the same work on fewer items)
   * @param repetitions timed runs, at least 1
   * @param run the timed run
   * @return the median time
   * @throws Exception what a run throws
   */
  static Measured median(int warmUps, Duration warmFor, Run warmUp, int repetitions, Run run)
      throws Exception {
    if (repetitions < 1) {
      throw new IllegalArgumentException("repetitions must be at least 1, was " + repetitions);
    }
    long warmStart = System.nanoTime();
    for (int i = 0;
        i < warmUps || (warmUps > 0 && System.nanoTime() - warmStart < warmFor.toNanos());
        i++) {
      warmUp.run();
    }
    double[] seconds = new double[repetitions];
    long checksum = 0;
    boolean consistent = true;
    for (int i = 0; i < repetitions; i++) {
      long start = System.nanoTime();
      long sum = run.run();
      seconds[i] = (System.nanoTime() - start) / 1e9;
      consistent &= i == 0 || sum == checksum;
      checksum = sum;
    }
    return new Measured(median(seconds), checksum, consistent);
  }

  /**
   * @return the median; the mean of the middle two for an even count
   */
  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  /**
   * Nearest-rank percentile, the same rule as the Python side's.
   *
   * @param sorted values in ascending order, at least one
   * @param percent 0 to 100
   * @return the smallest value with at least {@code percent}% of the values at or below it
   */
  static long percentile(long[] sorted, int percent) {
    int rank = (int) Math.max(1, Math.ceil(percent / 100.0 * sorted.length));
    return sorted[rank - 1];
  }
}
