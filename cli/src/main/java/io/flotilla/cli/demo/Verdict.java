package io.flotilla.cli.demo;

import java.util.Locale;

/**
 * The demo's verdict on one workload: which executor the measurements favour, and why, but only
 * where a measurement shows why. A pure function of {@link Figures}, so that every rule is tested
 * without running anything.
 *
 * <p>The causes it can name, each from its own figures:
 *
 * <ul>
 *   <li>too little work: the whole serial loop lasts fewer than {@link #ROUND_TRIPS_PER_MAP} round
 *       trips to a worker, as measured on the pool;
 *   <li>a busy machine: CPU-bound work (the serial loop kept its core busy) on a thread pool that
 *       used little more than one core although it had more threads than that at work;
 *   <li>work that waits: the serial loop kept its core busy less than half the time;
 *   <li>copying: the extra time a round trip takes when it carries an item and its result, measured
 *       on the pool, times the items, makes up at least half of what processes lost to threads;
 *   <li>items of unequal cost: the serial loop's time for each item, handed out in order to the
 *       workers, allows them less than the threads reached;
 *   <li>CPU: one pool used clearly fewer cores than the other (for lack of CPU, or of items to
 *       run).
 * </ul>
 */
final class Verdict {
  /** A pool ahead by less than this is within what repeated runs on a shared machine vary by. */
  static final double CLEAR_LEAD = 1.15;

  /** Below this speed-up, neither pool gained anything worth its threads. */
  static final double NO_GAIN = 1.1;

  /**
   * A map costs a handful of round trips however it is chunked (the first chunks, the last results,
   * items yielded to an idle worker): a loop shorter than about this many cannot gain.
   */
  static final int ROUND_TRIPS_PER_MAP = 20;

  /** Share of a core the serial loop used below which the work mostly waits. */
  static final double WAITING_CPU = 0.5;

  /** Cores used by a thread pool with several threads at work, below which others had the rest. */
  static final double BUSY_CORES = 1.5;

  private Verdict() {}

  /**
   * What the demo measured for one workload. Seconds are medians of the timed runs; a figure that
   * was not measured (the CPU of a cluster's workers) is {@code NaN}.
   *
   * @param items the items of one run
   * @param serialSeconds the serial loop
   * @param threadSeconds the ThreadPool
   * @param processSeconds the ProcessPool, or the cluster
   * @param itemSeconds each item's time in the serial loop, in input order
   * @param processors this machine's processors
   * @param threads the ThreadPool's threads
   * @param workers the ProcessPool's worker threads in all (its parallelism)
   * @param serialCpu the share of a core the serial loop used: its CPU time over its wall time
   * @param threadCores cores the ThreadPool's JVM used while it ran: CPU time over wall time
   * @param processCores cores the worker JVMs used while they ran, or NaN
   * @param threadRoundTrip a no-op task's round trip on the ThreadPool
   * @param processRoundTrip a no-op task's round trip on the ProcessPool
   * @param bytesPerItem an item and its result, encoded as they travel between processes
   * @param copySecondsPerItem what a round trip carrying an item and its result takes beyond a
   *     no-op's
   * @param consistent whether every executor computed the same results
   */
  @SuppressWarnings("ArrayRecordComponent") // read-only, and never compared
  record Figures(
      int items,
      double serialSeconds,
      double threadSeconds,
      double processSeconds,
      double[] itemSeconds,
      int processors,
      int threads,
      int workers,
      double serialCpu,
      double threadCores,
      double processCores,
      double threadRoundTrip,
      double processRoundTrip,
      double bytesPerItem,
      double copySecondsPerItem,
      boolean consistent) {}

  /**
   * @param f the figures
   * @return one line: the executor the figures favour (or serial, or either), the speed-ups, and a
   *     cause where a figure shows one
   */
  static String of(Figures f) {
    if (!f.consistent()) {
      return "results differ between executors: a bug, please report it";
    }
    double t = f.serialSeconds() / f.threadSeconds();
    double p = f.serialSeconds() / f.processSeconds();
    if (Math.max(t, p) < NO_GAIN) {
      return noGain(f, t, p);
    }
    if (t > p * CLEAR_LEAD) {
      if (f.serialCpu() < WAITING_CPU) {
        return format(
            "threads: %.2fx against processes' %.2fx; the work waits: the serial loop kept its core %d%% busy",
            t, p, Math.round(f.serialCpu() * 100));
      }
      return withCause(
          format("threads: %.2fx against processes' %.2fx", t, p), processesBehind(f, t, p));
    }
    if (p > t * CLEAR_LEAD) {
      return withCause(
          format("processes: %.2fx against threads' %.2fx", p, t), threadsBehind(f, t, p));
    }
    String either = format("either: threads %.2fx, processes %.2fx", t, p);
    return withCause(either, p < t ? processesBehind(f, t, p) : threadsBehind(f, t, p));
  }

  private static String noGain(Figures f, double t, double p) {
    if (f.serialSeconds() < f.processRoundTrip()) {
      return format(
          "serial: the whole loop takes %s, less than one round trip to a worker (%s)",
          DemoCommand.duration(f.serialSeconds()), DemoCommand.duration(f.processRoundTrip()));
    }
    if (f.serialSeconds() < ROUND_TRIPS_PER_MAP * f.processRoundTrip()) {
      return format(
          "serial: the whole loop takes %s, %d round trips to a worker (%s each)",
          DemoCommand.duration(f.serialSeconds()),
          Math.round(f.serialSeconds() / f.processRoundTrip()),
          DemoCommand.duration(f.processRoundTrip()));
    }
    // The thread pool is the witness: its threads share the cores to the end, while a worker JVM
    // may
    // also use little CPU because it ran out of items.
    boolean cpuBound = f.serialCpu() >= WAITING_CPU;
    if (cpuBound && f.processors() >= 2 && f.threads() >= 2 && f.threadCores() < BUSY_CORES) {
      return format(
          "no speed-up: with %d threads at work this JVM used %.1f of %d cores; the machine is busy",
          f.threads(), f.threadCores(), f.processors());
    }
    return format("no speed-up: threads %.2fx, processes %.2fx", t, p);
  }

  /** Why processes trail threads, if a figure shows it; else null. */
  private static String processesBehind(Figures f, double t, double p) {
    double lost = f.processSeconds() - f.threadSeconds();
    double copying = f.items() * f.copySecondsPerItem();
    if (copying >= 0.5 * lost) {
      return format(
          "each item moves %s between processes: %s of copying in all",
          bytes(f.bytesPerItem()), DemoCommand.duration(copying));
    }
    double perItem = f.serialSeconds() / f.items();
    if (perItem < f.processRoundTrip()
        && f.items() * f.processRoundTrip() / f.workers() >= 0.5 * lost) {
      return format(
          "each item (%s) is shorter than a round trip to a worker (%s)",
          DemoCommand.duration(perItem), DemoCommand.duration(f.processRoundTrip()));
    }
    String uneven = unevenItems(f, f.workers(), "workers", p, t);
    if (uneven != null) {
      return uneven;
    }
    if (known(f.processCores())
        && known(f.threadCores())
        && f.processCores() * CLEAR_LEAD < f.threadCores()) {
      return format(
          "the worker JVMs used %.1f cores, the threads %.1f", f.processCores(), f.threadCores());
    }
    return null;
  }

  /** Why threads trail processes, if a figure shows it; else null. */
  private static String threadsBehind(Figures f, double t, double p) {
    if (known(f.processCores())
        && known(f.threadCores())
        && f.threadCores() * CLEAR_LEAD < f.processCores()) {
      return format(
          "the threads used %.1f cores, the worker JVMs %.1f", f.threadCores(), f.processCores());
    }
    // More threads than cores share the cores to the end, whatever the items cost.
    return f.threads() <= f.processors() ? unevenItems(f, f.threads(), "threads", t, p) : null;
  }

  /**
   * The speed-up that the items' serial times allow {@code n} executors that start them in input
   * order (each item goes to the first one free), when it explains the trailing lane: it is below
   * what the other lane reached, and the trailing lane came close to it.
   */
  private static String unevenItems(
      Figures f, int n, String what, double trailing, double leading) {
    double bound = inOrderSpeedUp(f.itemSeconds(), n);
    if (!known(bound) || bound >= leading * 0.95 || trailing > bound * 1.05) {
      return null;
    }
    return format("these items, started in order, allow %d %s at most %.2fx", n, what, bound);
  }

  /**
   * @return total time over the makespan of handing the items out in order to n executors, or NaN
   */
  static double inOrderSpeedUp(double[] itemSeconds, int n) {
    if (itemSeconds == null || itemSeconds.length == 0 || n < 1) {
      return Double.NaN;
    }
    double[] free = new double[n];
    double total = 0;
    for (double s : itemSeconds) {
      int first = 0;
      for (int i = 1; i < n; i++) {
        if (free[i] < free[first]) {
          first = i;
        }
      }
      free[first] += s;
      total += s;
    }
    double makespan = 0;
    for (double end : free) {
      makespan = Math.max(makespan, end);
    }
    return makespan > 0 ? total / makespan : Double.NaN;
  }

  private static String withCause(String verdict, String cause) {
    return cause == null ? verdict : verdict + "; " + cause;
  }

  private static boolean known(double figure) {
    return !Double.isNaN(figure);
  }

  static String bytes(double bytes) {
    if (bytes < 1000) {
      return format("%.0f bytes", bytes);
    }
    return bytes < 1e6 ? format("%.0f kB", bytes / 1e3) : format("%.1f MB", bytes / 1e6);
  }

  private static String format(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
