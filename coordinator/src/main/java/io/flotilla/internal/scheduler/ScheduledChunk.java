package io.flotilla.internal.scheduler;

import io.flotilla.internal.map.ChunkBackend;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.ItemBatch;
import java.util.function.BiConsumer;

/**
 * A chunk in the scheduler. Lifecycle, moved only by {@link ChunkScheduler}'s named transitions
 * under its lock ({@link #moveTo} refuses any other move):
 *
 * <pre>
 *            assign                       settle (a final result)
 * QUEUED ──────────────► SENT ─────────────────────────────────────► DONE
 *   │  ▲                  │ │ │
 *   │  └──── requeue ─────┘ │ └── split: its worker died running it, or it ran past the task timeout,
 *   │   taken back unstarted│     with several map items ──► DONE, handed back suspect: MapRun runs it
 *   │   for an idle worker; │     again as two isolated halves (the poison hunt)
 *   │   its worker lost     │
 *   │   (charged an attempt │
 *   │   if it was running)  └── settle: out of attempts, timed out, the pool broke ──► FAILED
 *   │                           settle: aborted (cancel(true); its worker is killed), or withdrawn
 *   │                                   unstarted from its worker's queue (cancel(false)) ──► CANCELLED
 *   └── settle: cancelled while queued ──► CANCELLED;  the pool broke, or no worker was ready
 *               within the patience (ChunkScheduler.watchForNoWorkers) ──► FAILED
 * </pre>
 *
 * DONE, CANCELLED and FAILED are final. A re-queued chunk runs isolated when its worker died (alone
 * on its next worker, so that a second death is its own); one taken back unstarted does not.
 *
 * <p>A result whose (chunk, attempt) does not match a SENT chunk is late or duplicate, and is
 * dropped. A SENT chunk may be asked to yield (at most once per attempt); its result then covers
 * fewer items, and the rest comes back to the scheduler as a new chunk. A SENT chunk may also
 * answer in pieces (partial results) and stay SENT: the items answered are {@link #delivered} for
 * good, and if the chunk has to run again, only the rest is sent.
 */
final class ScheduledChunk implements ChunkBackend.ChunkTicket {
  enum State {
    QUEUED,
    SENT,
    DONE,
    CANCELLED,
    FAILED;

    boolean isFinal() {
      return this == DONE || this == CANCELLED || this == FAILED;
    }

    /**
     * @return whether the diagram above has an arrow from this state to {@code next}
     */
    boolean canMoveTo(State next) {
      return switch (this) {
        case QUEUED -> next == SENT || next == CANCELLED || next == FAILED;
        case SENT -> next != SENT;
        case DONE, CANCELLED, FAILED -> false;
      };
    }
  }

  final JobSpec job;
  final long chunkId;
  final long firstIndex;
  final int size;
  final ItemBatch items;
  final ResultSink onResult;

  /** Fails the items not yet answered; given the chunk's error and {@link #delivered}. */
  final BiConsumer<Throwable, Integer> onFailure;

  /**
   * Hands the items not yet answered back unstarted, as suspect: its worker died running it, or it
   * timed out. Given the worker and {@link #delivered}.
   */
  final BiConsumer<WorkerHandle, Integer> onSuspect;

  private final ChunkScheduler scheduler;

  // Guarded by the scheduler's lock, and written only by its transitions.
  State state = State.QUEUED;
  int attempt = 1;
  WorkerHandle worker;
  boolean yieldRequested;

  /**
   * Asked back from the queue of a busy worker for an idle one: if it comes back whole, it
   * re-queues.
   */
  boolean stolen;

  /** Re-queued after its worker died: runs alone on a worker, so that a second death is its own. */
  boolean isolated;

  /**
   * The rest of a chunk that yielded: goes only to a worker with a free run thread, never into a
   * worker's prefetch, where it could wait behind a long chunk while another worker idles.
   */
  boolean resumed;

  /** Items answered by partial results: they never run again. */
  int delivered;

  /** The task timer armed when the worker said Started, or null. */
  SchedulerClock.Timer timer;

  /**
   * A cancel(false) waiting to learn whether the worker gave the chunk back unstarted, or null:
   * completed with true when the chunk is cancelled that way, false when it turns out to have
   * started.
   */
  java.util.concurrent.CompletableFuture<Boolean> withdrawal;

  ScheduledChunk(
      ChunkScheduler scheduler,
      JobSpec job,
      long chunkId,
      long firstIndex,
      int size,
      ItemBatch items,
      ResultSink onResult,
      BiConsumer<Throwable, Integer> onFailure,
      BiConsumer<WorkerHandle, Integer> onSuspect) {
    this.scheduler = scheduler;
    this.job = job;
    this.chunkId = chunkId;
    this.firstIndex = firstIndex;
    this.size = size;
    this.items = items;
    this.onResult = onResult;
    this.onFailure = onFailure;
    this.onSuspect = onSuspect;
  }

  /**
   * Moves the chunk along its lifecycle; called by the scheduler's transitions only.
   *
   * @throws IllegalStateException if the diagram has no such arrow
   */
  void moveTo(State next) {
    if (!state.canMoveTo(next)) {
      throw new IllegalStateException(
          "chunk " + chunkId + " cannot move from " + state + " to " + next);
    }
    state = next;
  }

  /** Where a chunk's results go. */
  interface ResultSink {
    /**
     * @param result a piece of the chunk's results, or the last one
     * @param worker the worker that sent it
     * @param base how many of the chunk's items earlier pieces answered: the piece starts there
     */
    void accept(ChunkResult result, WorkerHandle worker, int base);
  }

  /**
   * @return how many items partial results have answered, for good
   */
  @Override
  public int delivered() {
    return scheduler.delivered(this);
  }

  /**
   * @return the input position of the first item not yet answered, or -1 for a submitted task
   */
  long firstUnanswered() {
    return firstIndex < 0 ? firstIndex : firstIndex + delivered;
  }

  /**
   * @return the items not yet answered
   */
  int remaining() {
    return size - delivered;
  }

  /**
   * @return the items to send: those not answered yet
   */
  ItemBatch unanswered() {
    if (delivered == 0) {
      return items;
    }
    int from = items.getEnds(delivered - 1);
    ItemBatch.Builder rest = ItemBatch.newBuilder().setData(items.getData().substring(from));
    for (int i = delivered; i < items.getEndsCount(); i++) {
      rest.addEnds(items.getEnds(i) - from);
    }
    return rest.build();
  }

  @Override
  public void requestYield() {
    scheduler.requestYield(this);
  }

  @Override
  public boolean cancelIfNotStarted() {
    return scheduler.cancel(this);
  }

  @Override
  public java.util.concurrent.CompletableFuture<Boolean> withdraw() {
    return scheduler.withdraw(this);
  }

  @Override
  public boolean abort() {
    return scheduler.abort(this);
  }
}
