package io.flotilla.internal.scheduler;

/**
 * What a {@link ChunkScheduler} tells its watchers (a metrics registry, a dashboard) as it works:
 * each chunk sent, each chunk's stay on a worker as it ends, the items answered, and each worker
 * lost. Events are gathered under the scheduler's lock and told, in order, once it is released, so
 * that a slow or faulty watcher can neither hold up dispatch nor see a half-made change. Every
 * method does nothing by default: a pool nobody watches keeps {@link #NONE}, and pays one volatile
 * read per event and no allocation.
 *
 * <p>Implementations are called from many threads at once (network, timers, callers), must not
 * block, and must not call back into the scheduler.
 */
public interface SchedulerMetrics {
  /** Watches nothing. */
  SchedulerMetrics NONE = new SchedulerMetrics() {};

  /**
   * @param first one watcher
   * @param second another
   * @return a watcher telling both, first then second
   */
  static SchedulerMetrics both(SchedulerMetrics first, SchedulerMetrics second) {
    return new Both(first, second);
  }

  /** Why a worker left the scheduler: a small, fixed set, fit to be a metric's tag. */
  enum WorkerLoss {
    /** It said it was leaving, or the coordinator was stopping. */
    LEFT,
    /** It was retired after its task quota or for holding too much heap, and left when drained. */
    RECYCLED,
    /** It was killed on purpose, to stop a chunk it ran (a hard cancel or a task timeout). */
    KILLED,
    /** It had been cut off by the network when it was lost. */
    UNREACHABLE,
    /** Its process ran out of heap. */
    OUT_OF_MEMORY,
    /** Its process ended on a signal (SIGKILL, SIGSEGV...). */
    SIGNAL,
    /** Its process exited by itself ({@code System.exit}, {@code halt}) with a code. */
    EXIT,
    /** Its stream broke and nothing more is known. */
    CRASHED;

    /**
     * @return its name as a tag value
     */
    public String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** How a chunk's stay on a worker ended. */
  enum Ending {
    /** Its last result came back. */
    DONE,
    /** It failed as a whole: out of attempts, timed out, or refused. */
    FAILED,
    /** It was cancelled while there. */
    CANCELLED,
    /** It was taken back unstarted, for an idle worker or a cancel, and runs again elsewhere. */
    REQUEUED,
    /** Its worker died or was cut off by the network while it held the chunk. */
    LOST;

    /**
     * @return its name as a tag value
     */
    public String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * A chunk went to a worker.
   *
   * @param jobId its job
   * @param chunkId the chunk
   * @param worker the worker's id
   * @param items the items sent (those not yet answered)
   * @param bytes the size of their encoded form
   * @param atNanos when, on the scheduler's clock
   */
  record Sent(long jobId, long chunkId, String worker, int items, long bytes, long atNanos) {}

  /**
   * A chunk's stay on a worker is over.
   *
   * @param jobId its job
   * @param chunkId the chunk
   * @param worker the worker's id
   * @param items the items it was sent with
   * @param failed of the items answered during the stay, those answered with an error
   * @param sentNanos when it was sent, on the scheduler's clock
   * @param endNanos when the stay ended
   * @param computeNanos how long the worker says it computed, over all pieces; 0 if unknown
   * @param ending how it ended
   */
  record Stay(
      long jobId,
      long chunkId,
      String worker,
      int items,
      int failed,
      long sentNanos,
      long endNanos,
      long computeNanos,
      Ending ending) {}

  /**
   * A job was opened (called by whoever opens it, at once; the scheduler holds no lock).
   *
   * @param jobId the scheduler's id for it
   * @param client who runs it: {@code local} for the pool's own caller, else the connected client
   * @param label what it is
   */
  default void jobOpened(long jobId, String client, io.flotilla.internal.map.JobLabel label) {}

  /**
   * @param jobId a job closed: finished, cancelled, or its client gone
   */
  default void jobClosed(long jobId) {}

  /**
   * @param sent a chunk sent to a worker
   */
  default void chunkSent(Sent sent) {}

  /**
   * @param stay a chunk's stay on a worker, just ended
   */
  default void chunkLeft(Stay stay) {}

  /**
   * A worker answered items of a chunk (a result, or a piece of one).
   *
   * @param jobId their job
   * @param completed answered with a value
   * @param failed answered with an error
   * @param bytes the size of the encoded answers
   */
  default void itemsAnswered(long jobId, int completed, int failed, long bytes) {}

  /**
   * Items a worker answered with an error, with the error it sent (told after {@link
   * #itemsAnswered} for the same result).
   *
   * @param jobId their job
   * @param worker the worker's id
   * @param host its host
   * @param failures the errors, as the worker sent them
   */
  default void itemErrors(
      long jobId,
      String worker,
      String host,
      java.util.List<io.flotilla.proto.ItemFailure> failures) {}

  /**
   * @param jobId their job
   * @param items items failed with their chunk, unanswered (out of attempts, timeout, a broken
   *     pool)
   */
  default void itemsFailed(long jobId, long items) {}

  /**
   * @param jobId their job
   * @param items items cancelled before they were answered
   */
  default void itemsCancelled(long jobId, long items) {}

  /**
   * @param jobId their job
   * @param items items sent again because their worker was lost or cut off
   */
  default void itemsRetried(long jobId, long items) {}

  /**
   * @param worker the worker's id
   * @param host its host
   * @param cause why
   */
  default void workerLost(String worker, String host, WorkerLoss cause) {}
}
