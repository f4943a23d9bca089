package io.flotilla.internal.jobs;

import java.time.Duration;

/**
 * What the job service allows one client, so that no client can exhaust the coordinator for the
 * others.
 *
 * @param maxMessageBytes the largest request message; larger ones are refused with
 *     RESOURCE_EXHAUSTED
 * @param maxPendingPerJob inputs of one job waiting or running; at it, the coordinator reads no
 *     further batch of the job's input stream (flow control) until some have their results; a batch
 *     is taken whole, so a job may pass the limit by one batch, which the message size bounds
 * @param maxJobsPerClient running jobs per client; one more is refused with RESOURCE_EXHAUSTED
 * @param maxKeptBytesPerClient results a client's jobs may keep in the coordinator, in bytes;
 *     beyond it new jobs are refused with RESOURCE_EXHAUSTED until some expire (running jobs are
 *     never cut short)
 * @param retention how long a finished job's results stay readable, and how long a job whose input
 *     stream broke waits for the client to resume it before its inputs are closed
 */
public record JobLimits(
    int maxMessageBytes,
    int maxPendingPerJob,
    int maxJobsPerClient,
    long maxKeptBytesPerClient,
    Duration retention) {
  /**
   * 4 MiB messages (gRPC's usual limit), 10,000 inputs in flight, 16 running jobs, 1 GiB of
   * results, kept 15 minutes.
   */
  public static final JobLimits DEFAULT =
      new JobLimits(4 << 20, 10_000, 16, 1L << 30, Duration.ofMinutes(15));

  public JobLimits {
    if (maxMessageBytes < 1024
        || maxPendingPerJob < 1
        || maxJobsPerClient < 1
        || maxKeptBytesPerClient < 1
        || retention.isNegative()) {
      throw new IllegalArgumentException(
          "job limits must be positive, messages at least 1024 bytes: messages "
              + maxMessageBytes
              + ", inputs in flight "
              + maxPendingPerJob
              + ", jobs "
              + maxJobsPerClient
              + ", kept bytes "
              + maxKeptBytesPerClient
              + ", retention "
              + retention);
    }
  }
}
