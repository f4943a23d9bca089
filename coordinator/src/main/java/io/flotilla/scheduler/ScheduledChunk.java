package io.flotilla.scheduler;

import io.flotilla.map.ChunkBackend;
import io.flotilla.proto.ChunkResult;
import io.flotilla.proto.ItemBatch;
import java.util.function.BiConsumer;

/**
 * A chunk in the scheduler. Lifecycle, moved only by {@link ChunkScheduler} under its lock:
 *
 * <pre>
 * QUEUED ──dispatch──► SENT ──result──► DONE
 *   │  ▲                │
 *   │  └──worker lost, attempts left (attempt + 1)
 *   │  └──worker lost while the chunk waited behind another (attempt unchanged)
 *   │      (either way it is re-queued isolated: it next runs alone on its worker)
 *   │                   └──worker lost, no attempts left──► FAILED
 *   └──cancel──► CANCELLED        (any non-final state) ──pool broken──► FAILED
 *                    ▲
 * SENT ──abort (cancel(true))────┘  the worker is killed; its other chunks re-queue uncharged
 * SENT ──taken back unstarted from a busy worker's queue for an idle one──► QUEUED (front, uncharged)
 * SENT ──ran past the task timeout──► FAILED (TimeoutException), the same way; a map chunk of several
 *                                     items is handed back instead (DONE, suspect), to be split
 * SENT ──worker lost, several map items──► DONE, handed back suspect: MapRun re-runs it as two halves,
 *                                          each isolated (the poison hunt)
 * SENT/QUEUED ──worker lost in a strict pool──► FAILED (BrokenPoolException), and the pool breaks
 * </pre>
 *
 * A result whose (chunk, attempt) does not match a SENT chunk is late or duplicate, and is dropped. A
 * SENT chunk may be asked to yield (at most once per attempt); its result then covers fewer items, and
 * the rest comes back to the scheduler as a new chunk. A SENT chunk may also answer in pieces (partial
 * results) and stay SENT: the items answered are {@link #delivered} for good, and if the chunk has to
 * run again, only the rest is sent.
 */
final class ScheduledChunk implements ChunkBackend.ChunkTicket {
  enum State {
    QUEUED,
    SENT,
    DONE,
    CANCELLED,
    FAILED
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
   * Hands the items not yet answered back unstarted, as suspect: its worker died running it, or it timed
   * out. Given the worker and {@link #delivered}.
   */
  final BiConsumer<WorkerHandle, Integer> onSuspect;
  private final ChunkScheduler scheduler;

  // guarded by the scheduler's lock
  State state = State.QUEUED;
  int attempt = 1;
  WorkerHandle worker;
  boolean yieldRequested;
  /** Asked back from the queue of a busy worker for an idle one: if it comes back whole, it re-queues. */
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
  java.util.concurrent.ScheduledFuture<?> timer;

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

  /** Where a chunk's results go. */
  interface ResultSink {
    /**
     * @param result a piece of the chunk's results, or the last one
     * @param worker the worker that sent it
     * @param base how many of the chunk's items earlier pieces answered: the piece starts there
     */
    void accept(ChunkResult result, WorkerHandle worker, int base);
  }

  /** @return how many items partial results have answered, for good */
  @Override
  public int delivered() {
    return scheduler.delivered(this);
  }

  /** @return the input position of the first item not yet answered, or -1 for a submitted task */
  long firstUnanswered() {
    return firstIndex < 0 ? firstIndex : firstIndex + delivered;
  }

  /** @return the items not yet answered */
  int remaining() {
    return size - delivered;
  }

  /** @return the items to send: those not answered yet */
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
  public boolean abort() {
    return scheduler.abort(this);
  }
}
