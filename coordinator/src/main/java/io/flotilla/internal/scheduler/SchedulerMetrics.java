package io.flotilla.internal.scheduler;

/**
 * What a {@link ChunkScheduler} tells a metrics registry as it works: counts only, tallied per
 * event under the scheduler's lock and told once the lock is released, so that a slow or faulty
 * registry can neither hold up dispatch nor see a half-made change. Every method does nothing by
 * default: a local pool keeps {@link #NONE}, and pays one volatile read per event.
 *
 * <p>Implementations must not block, and must not call back into the scheduler.
 */
public interface SchedulerMetrics {
  /** Counts nothing. */
  SchedulerMetrics NONE = new SchedulerMetrics() {};

  /** Why a worker left the scheduler: a small, fixed set, fit to be a metric's tag. */
  enum WorkerLoss {
    /** It said it was leaving, or the coordinator was stopping. */
    LEFT,
    /** It was killed on purpose, to stop a chunk it ran (a hard cancel or a task timeout). */
    KILLED,
    /** It had been cut off by the network when it was lost. */
    UNREACHABLE,
    /** Anything else: its process died, or its stream broke. */
    CRASHED;

    /**
     * @return its name as a tag value
     */
    public String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * @param chunks chunks sent to workers
   */
  default void chunksDispatched(int chunks) {}

  /**
   * @param chunks chunks whose last result came back
   */
  default void chunksCompleted(int chunks) {}

  /**
   * @param chunks chunks taken off a worker to run again (lost, cut off, or taken back for an idle
   *     worker)
   */
  default void chunksRequeued(int chunks) {}

  /**
   * @param items items answered with a value
   */
  default void itemsCompleted(long items) {}

  /**
   * @param items items answered with an error, or failed with their chunk
   */
  default void itemsFailed(long items) {}

  /**
   * @param cause why
   */
  default void workerLost(WorkerLoss cause) {}
}
