package io.flotilla.internal.scheduler;

import io.flotilla.proto.Sample;

/**
 * The latest resources a worker reported ({@link Sample}), as the coordinator keeps them:
 * immutable, so that a handle publishes one through a volatile field and readers need no lock.
 *
 * @param atNanos when it arrived, by {@link System#nanoTime()}
 * @param heapUsedBytes heap in use
 * @param heapMaxBytes the most the heap may grow to; 0 when the worker's JVM sets no limit
 * @param rssBytes resident memory of the worker's process; 0 when unknown (not Linux)
 * @param cpuNanos CPU time the worker's process has used so far, all threads together
 * @param gcCount garbage collections so far
 * @param gcNanos time spent in them so far
 * @param coresUsed processors kept busy since the previous sample (CPU time over wall time); NaN
 *     for a worker's first sample, which has nothing to compare with
 */
public record WorkerSample(
    long atNanos,
    long heapUsedBytes,
    long heapMaxBytes,
    long rssBytes,
    long cpuNanos,
    long gcCount,
    long gcNanos,
    double coresUsed) {

  /**
   * @param sample what the worker sent
   * @param atNanos when it arrived, by {@link System#nanoTime()}
   * @param previous the worker's previous sample, or null for its first
   * @return the sample kept, with the cores used since {@code previous}
   */
  static WorkerSample of(Sample sample, long atNanos, WorkerSample previous) {
    double cores = Double.NaN;
    if (previous != null && atNanos > previous.atNanos) {
      // A worker's CPU time only grows; clamped in case a peer says otherwise.
      long cpu = Math.max(0, sample.getCpuNanos() - previous.cpuNanos);
      cores = (double) cpu / (atNanos - previous.atNanos);
    }
    return new WorkerSample(
        atNanos,
        sample.getHeapUsedBytes(),
        sample.getHeapMaxBytes(),
        sample.getRssBytes(),
        sample.getCpuNanos(),
        sample.getGcCount(),
        sample.getGcNanos(),
        cores);
  }
}
