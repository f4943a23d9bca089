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
 *   │   if it was running); └── settle: out of attempts, timed out, the pool broke ──► FAILED
 *   │   its worker cut off      settle: aborted (cancel(true); its worker is killed), or withdrawn
 *   │   (a new attempt,                 unstarted from its worker's queue (cancel(false)) ──► CANCELLED
 *   │   uncharged)
 *   ├── settle: cancelled while queued ──► CANCELLED;  the pool broke, or no worker was ready
 *   │           within the patience (ChunkScheduler.watchForNoWorkers) ──► FAILED
 *   └── settle: answered by the cut-off worker it was taken from, before it was sent again ──► DONE
 * </pre>
 *
 * DONE, CANCELLED and FAILED are final. A re-queued chunk runs isolated when its worker died (alone
 * on its next worker, so that a second death is its own); one taken back unstarted, or from a
 * worker cut off by the network, does not.
 *
 * <p>A result whose (chunk, attempt) does not match a SENT chunk is late or duplicate, and is
 * dropped. A chunk taken from a worker that the cluster found unreachable is sent again under a new
 * attempt, since that worker may still be running the old one: whatever the cut-off worker sends
 * for the old attempt is dropped once the chunk is sent again, and may settle it (or deliver a
 * piece of it) until then ({@link #cutFrom}), so that the first answer wins and no item is answered
 * twice. A SENT chunk may be asked to yield (at most once per attempt); its result then covers
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
        case QUEUED -> next != QUEUED;
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

  /**
   * Which run of the chunk this is, as messages name it: a result answers the attempt it was sent,
   * so that one from an earlier run is recognised. It goes up whenever the chunk is sent again
   * while an earlier holder may still be running it: that worker died (charged, see {@link
   * #tries}), or the network cut it off (uncharged).
   */
  int attempt = 1;

  /** Attempts counted against the pool's maximum: 1, plus 1 for each run charged to a death. */
  int tries = 1;

  WorkerHandle worker;

  // Its stay on its worker, for the scheduler's watchers: reset each time it is sent.
  long sentNanos;
  int sentItems;
  int failedOnWorker;
  long computeNanos;

  /**
   * The worker the chunk was taken from when the network cut it off, while the chunk is queued and
   * not sent again: what that worker still sends for the attempt before {@link #attempt} is
   * accepted until then. Null otherwise.
   */
  WorkerHandle cutFrom;

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
