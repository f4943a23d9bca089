package io.flotilla.map;

import java.util.List;

/**
 * The outcome of a chunk that yielded and was finished in parts: each part covers a contiguous range of
 * the chunk's items, and together they cover all of it.
 */
final class CompositeOutcome implements ChunkOutcome {
  private final int[] starts;
  private final ChunkOutcome[] parts;
  private final int size;

  /**
   * @param starts each part's first item, ascending, the first being 0
   * @param parts the parts, in the same order
   */
  CompositeOutcome(List<Integer> starts, List<ChunkOutcome> parts) {
    this.starts = starts.stream().mapToInt(Integer::intValue).toArray();
    this.parts = parts.toArray(new ChunkOutcome[0]);
    ChunkOutcome last = this.parts[this.parts.length - 1];
    this.size = this.starts[this.starts.length - 1] + last.size();
  }

  private int part(int i) {
    int found = java.util.Arrays.binarySearch(starts, i);
    return found >= 0 ? found : -found - 2;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public Throwable error(int i) {
    int p = part(i);
    return parts[p].error(i - starts[p]);
  }

  @Override
  public Object value(int i) {
    int p = part(i);
    return parts[p].value(i - starts[p]);
  }

  @Override
  public long computeNanos() {
    long total = 0;
    for (ChunkOutcome p : parts) {
      if (p.computeNanos() < 0) {
        return -1;
      }
      total += p.computeNanos();
    }
    return total;
  }
}
