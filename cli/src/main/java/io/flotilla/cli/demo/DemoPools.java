package io.flotilla.cli.demo;

import io.flotilla.PoolExecutor;
import io.flotilla.ProcessPool;
import io.flotilla.SerializableCallable;
import io.flotilla.ThreadPool;
import io.flotilla.internal.codec.Codec;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * The demo's two pools, ready to be timed, and the figures its verdicts rest on beyond the times:
 * the round trip of a task that does nothing, the bytes and the time an item and its result take to
 * travel, and the CPU each lane used. Used by one thread.
 */
final class DemoPools {
  /** Long enough for a loaded 2-core machine to start a handful of JVMs. */
  private static final long READY_TIMEOUT_SECONDS = 120;

  /**
   * Round trips run before measuring them: until the JIT has compiled the submit path in the caller
   * and in the workers, a round trip costs several times what it costs after.
   */
  private static final int WARM_ROUND_TRIPS = 200;

  /** Round trips measured; the median is kept. */
  private static final int MEASURED_ROUND_TRIPS = 51;

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final ThreadPool threads;
  private final PoolExecutor processes;
  private final double threadRoundTrip;
  private final double processRoundTrip;
  private final Codec codec = new Codec(DemoPools.class.getClassLoader());

  private DemoPools(
      ThreadPool threads, PoolExecutor processes, double threadRoundTrip, double processRoundTrip) {
    this.threads = threads;
    this.processes = processes;
    this.threadRoundTrip = threadRoundTrip;
    this.processRoundTrip = processRoundTrip;
  }

  /**
   * Waits until every worker of a local pool has answered (a single task returns as soon as the
   * first worker is up, and the others would still be starting when the clock starts), then
   * measures a no-op's round trip on each pool.
   *
   * @throws TimeoutException if the workers did not all start in time
   */
  static DemoPools ready(ThreadPool threads, PoolExecutor processes) throws Exception {
    if (processes instanceof ProcessPool local) {
      io.flotilla.bench.WorkersReady.await(local, READY_TIMEOUT_SECONDS);
    }
    SerializableCallable<Integer> noop = () -> 1;
    return new DemoPools(threads, processes, roundTrip(threads, noop), roundTrip(processes, noop));
  }

  private static double roundTrip(PoolExecutor pool, SerializableCallable<?> task)
      throws Exception {
    for (int i = 0; i < WARM_ROUND_TRIPS; i++) {
      pool.submit(task).get();
    }
    return medianRoundTrip(pool, task, MEASURED_ROUND_TRIPS);
  }

  private static double medianRoundTrip(PoolExecutor pool, SerializableCallable<?> task, int runs)
      throws Exception {
    double[] seconds = new double[runs];
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      pool.submit(task).get();
      seconds[i] = (System.nanoTime() - start) / 1e9;
    }
    Arrays.sort(seconds);
    return seconds[runs / 2];
  }

  ThreadPool threads() {
    return threads;
  }

  PoolExecutor processes() {
    return processes;
  }

  /**
   * @return the median round trip of a no-op task on the thread pool, in seconds
   */
  double threadRoundTrip() {
    return threadRoundTrip;
  }

  /**
   * @return the median round trip of a no-op task on the process pool, in seconds
   */
  double processRoundTrip() {
    return processRoundTrip;
  }

  /**
   * @param bytesPerItem the mean size of an item and its result, encoded as they travel
   * @param secondsPerItem what a round trip carrying a typical item and its result takes beyond a
   *     no-op's
   */
  record Copying(double bytesPerItem, double secondsPerItem) {}

  /**
   * Measures what moving items and results between processes costs: their encoded sizes, and the
   * round trip of a task that carries the item of median size to a worker and brings its result
   * back.
   *
   * @param items a workload's items
   * @param results their results, in the same order
   */
  Copying copying(List<?> items, List<?> results) throws Exception {
    int n = items.size();
    long[] sizes = new long[n];
    Integer[] order = new Integer[n];
    long total = 0;
    for (int i = 0; i < n; i++) {
      sizes[i] = (long) codec.encode(items.get(i)).size() + codec.encode(results.get(i)).size();
      total += sizes[i];
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Long.compare(sizes[a], sizes[b]));
    int typical = order[n / 2];
    Object[] pair = {items.get(typical), results.get(typical)};
    SerializableCallable<Object> carry = () -> pair[1];
    for (int i = 0; i < 5; i++) {
      processes.submit(carry).get();
    }
    double carried = medianRoundTrip(processes, carry, 15);
    return new Copying((double) total / n, Math.max(0, carried - processRoundTrip));
  }

  /**
   * @return CPU time of the calling thread, in nanoseconds, or -1
   */
  static long serialCpuNanos() {
    return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : -1;
  }

  /**
   * @return CPU time of this JVM, all threads, in nanoseconds, or -1
   */
  static long jvmCpuNanos() {
    return cpuNanos(ProcessHandle.current());
  }

  /**
   * @return CPU time of the local pool's worker JVMs, in nanoseconds, or -1 (a cluster's are
   *     elsewhere)
   */
  long workerCpuNanos() {
    if (!(processes instanceof ProcessPool local)) {
      return -1;
    }
    long sum = 0;
    for (long pid : local.workerPids()) {
      Optional<ProcessHandle> worker = ProcessHandle.of(pid);
      long cpu = worker.isPresent() ? cpuNanos(worker.get()) : -1;
      if (cpu < 0) {
        return -1;
      }
      sum += cpu;
    }
    return sum;
  }

  private static long cpuNanos(ProcessHandle process) {
    return process.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }
}
