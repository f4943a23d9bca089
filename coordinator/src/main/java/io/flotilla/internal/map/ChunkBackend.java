package io.flotilla.internal.map;

import io.flotilla.SerializableFunction;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where chunks run: worker processes or threads of this JVM. The map and submit machinery above it
 * is the same for both, which is what makes switching between {@code ThreadPool} and {@code
 * ProcessPool} one line.
 *
 * <p>Contract: for every {@link #run} the {@code done} callback receives zero or more {@linkplain
 * ChunkOutcome#partial() partial} outcomes and then exactly one final outcome, on any threads and
 * possibly out of order, unless {@link ChunkTicket#cancelIfNotStarted()} returned {@code true}
 * first. Each outcome covers {@code outcome.size()} items from the chunk's item {@code
 * outcome.base()}; the ranges never overlap. Partial outcomes are results a long chunk sends as it
 * goes. The final outcome ends the chunk, possibly before its last item when the chunk
 * <em>yielded</em> (it stopped early so that an idle worker could take the rest) or was handed back
 * as suspect; the caller then runs the items after the final outcome's range as new chunks.
 */
public interface ChunkBackend {
  /**
   * Prepares a job whose chunks all apply {@code fn}. A process backend encodes {@code fn} here,
   * once.
   *
   * @param fn the function
   * @return a handle to pass to {@link #run}
   * @throws io.flotilla.SerializationException if {@code fn} cannot be encoded
   */
  JobRef openJob(SerializableFunction<?, ?> fn);

  /**
   * The same, saying what the job is for those watching the pool.
   *
   * @param fn the function
   * @param label its name, kind and size; asked for only if someone watches (naming a lambda takes
   *     reflection, which a pool nobody watches does not pay for)
   * @return a handle to pass to {@link #run}
   */
  default JobRef openJob(
      SerializableFunction<?, ?> fn, java.util.function.Supplier<JobLabel> label) {
    return openJob(fn);
  }

  /**
   * @return the job whose items are {@link java.util.concurrent.Callable}s, called as they are
   */
  JobRef callJob();

  /**
   * Starts running a chunk.
   *
   * @param job the job
   * @param firstIndex the position of the first item in the job's input, or -1 for a submitted task
   * @param items the items, owned by the backend from now on
   * @param start fresh input, or the unstarted items of a chunk that yielded (they go ahead of
   *     other queued chunks, since a consumer may already be waiting for them), or items suspected
   *     of killing a worker (they also run alone on their worker, so that the next death is pinned
   *     on them)
   * @param done receives the outcomes: partial ones, then the final one
   * @return a handle that can cancel the chunk while it has not started
   */
  ChunkTicket run(
      JobRef job, long firstIndex, List<?> items, Start start, Consumer<ChunkOutcome> done);

  /** Why a chunk is being run. */
  enum Start {
    /** New input. */
    FRESH,
    /** The rest of a chunk that yielded. */
    RESUMED,
    /**
     * More items of a chunk whose results are large, run a few at a time: ahead of fresh input like
     * {@link #RESUMED}, but free to wait in a worker's prefetch, since they come in a steady
     * stream.
     */
    CONTINUED,
    /** Half of a chunk whose worker died running it, or that ran past the task timeout. */
    SUSPECT
  }

  /** Releases a job: its queued chunks are dropped and workers forget its function. */
  void closeJob(JobRef job);

  /**
   * @return how many items can run at once (worker threads in all)
   */
  int parallelism();

  /** A prepared job. */
  interface JobRef {}

  /** A submitted chunk. */
  interface ChunkTicket {
    /**
     * @return {@code true} if the chunk had not started and now never will; its callback is then
     *     never called
     */
    boolean cancelIfNotStarted();

    /**
     * Cancels the chunk if it has not started, like {@link #cancelIfNotStarted()}, including a
     * chunk already handed to a worker and waiting there behind others: that worker is asked for it
     * back, so the answer may take a round trip. The future completes within a bounded time, on any
     * thread.
     *
     * @return completes with {@code true} if the chunk had not started and now never will (its
     *     callback is then never called), {@code false} if it has started or ended
     */
    default java.util.concurrent.CompletableFuture<Boolean> withdraw() {
      return java.util.concurrent.CompletableFuture.completedFuture(cancelIfNotStarted());
    }

    /**
     * @return how many of the chunk's first items partial outcomes have answered; after a
     *     successful {@link #cancelIfNotStarted()}, only the items after them are unanswered
     */
    default int delivered() {
      return 0;
    }

    /**
     * Asks a running chunk to stop at its next item and hand the rest back (a final outcome that
     * yielded); a chunk that has not started, or has ended, or a backend that cannot, ignores it.
     */
    default void requestYield() {}

    /**
     * Stops the chunk whether or not it has started: a running chunk's worker process is killed (a
     * JVM cannot stop a thread safely) and replaced. Backends that cannot do this return false.
     *
     * @return {@code true} if the chunk is now stopped and its callback will never be called
     */
    default boolean abort() {
      return cancelIfNotStarted();
    }
  }
}
