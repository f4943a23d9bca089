package io.flotilla.internal.map;

import java.util.List;

/**
 * The items of a chunk that its final outcome did not reach, because the chunk yielded (an idle
 * worker took its rest) or was handed back as suspect (its worker died running it, or it ran past
 * the task timeout), and the rule for running them again: at once, as two halves, each sent to the
 * head of the queue. Halving lets the idle worker that caused a yield take one half, and narrows a
 * suspect down until the item that kills workers runs alone, where the scheduler counts its
 * attempts.
 *
 * <p>One rule for every caller of a {@link ChunkBackend}: {@link MapRun} and the job service's jobs
 * both follow it, so that poison items are isolated the same way in both.
 *
 * @param from the position in the chunk of the first unreached item
 * @param count how many items were not reached, at least one
 * @param start how they run again: {@link ChunkBackend.Start#SUSPECT SUSPECT} if the chunk was
 *     handed back as suspect, else {@link ChunkBackend.Start#RESUMED RESUMED}
 */
public record UnreachedItems(int from, int count, ChunkBackend.Start start) {
  /**
   * @param outcome the final outcome of a chunk
   * @param size how many items the chunk has
   * @return the items after the outcome's range, or null if it reached the chunk's last item
   */
  public static UnreachedItems after(ChunkOutcome outcome, int size) {
    int base = outcome.base();
    int done = Math.max(0, Math.min(outcome.size(), size - base));
    int left = size - base - done;
    if (left <= 0) {
      return null;
    }
    return new UnreachedItems(
        base + done,
        left,
        outcome.suspect() ? ChunkBackend.Start.SUSPECT : ChunkBackend.Start.RESUMED);
  }

  /** A run of unreached items to hand to the backend as one chunk. */
  public record Half(int from, int count) {}

  /**
   * @return the two halves (a single item is one), the first the larger, in the order to hand them
   *     to the backend: since each goes to the head of the queue, the second goes first, so that
   *     the first ends up in front
   */
  public List<Half> halvesInLaunchOrder() {
    int first = (count + 1) / 2;
    Half front = new Half(from, first);
    return count > first ? List.of(new Half(from + first, count - first), front) : List.of(front);
  }
}
