package io.flotilla.internal.scheduler;

import java.util.concurrent.CompletableFuture;

/** What the link server tells whoever manages the worker processes. Called on gRPC threads. */
public interface FleetListener {
  /**
   * A worker passed the handshake and is running its initializer.
   *
   * @param workerId its id
   */
  void attached(String workerId);

  /**
   * A worker is ready for work.
   *
   * @param workerId its id
   * @param threads its run threads
   */
  void ready(String workerId, int threads);

  /**
   * A worker's stream ended. A worker whose process is still alive (it stopped answering) is
   * killed.
   *
   * @param workerId its id
   * @param streamEnd how the stream ended, in words
   * @return how it died, once known
   */
  CompletableFuture<WorkerDeath> lost(String workerId, String streamEnd);

  /**
   * A worker's stream ended as both sides meant it to: the worker said it was leaving (it was asked
   * to stop), or this side is stopping its workers. Its chunks run again elsewhere, as a lost
   * worker's do; only the news differs: a departure, not a loss. By default, reported as {@link
   * #lost}.
   *
   * @param workerId its id
   * @param why what ended it, in words
   * @return how it ended, once known
   */
  default CompletableFuture<WorkerDeath> left(String workerId, String why) {
    return lost(workerId, why);
  }

  /**
   * A worker's initializer threw; the worker is exiting.
   *
   * @param workerId its id
   * @param pid its process id
   * @param error the initializer's exception, rebuilt
   */
  void initializerFailed(String workerId, long pid, Throwable error);
}
