package io.flotilla.map;

/**
 * Picks the size of a map's next chunk from what earlier chunks measured, when the user has not fixed it.
 *
 * <p>Starts at one item per chunk, because nothing is known yet and a slow function must not be bundled
 * with its neighbours. Each completed chunk reports how long its items took in the user's function; the
 * next chunk is then sized to take about {@link #TARGET_NANOS}, but may be at most {@link #GROWTH} times the
 * largest chunk completed so far (slow start: item cost can grow along the input, as the seed's hash
 * workload does, and an early cheap item must not lure a dozen expensive ones into one chunk). When the
 * input's length is known, a chunk never takes more than an equal share of what is left, so every worker
 * gets some of the tail.
 *
 * <p>Thread-safe.
 */
final class ChunkSizer {
  /**
   * Work per chunk to aim for. A chunk's fixed cost is a round trip and two encodings, tens of
   * microseconds; 2 ms keeps that a few percent while one chunk still balances well across workers.
   */
  static final long TARGET_NANOS = 2_000_000;

  /** Per-item cost assumed at least, covering the encoding the worker does not measure. */
  static final long FLOOR_NANOS = 100;

  /** How much bigger than the largest chunk completed so far the next one may be. */
  static final int GROWTH = 4;

  /** Upper bound, keeping one chunk's encoded size and its latency reasonable. */
  static final int MAX_CHUNK = 32_768;

  private final int fixed;
  private final int parallelism;
  private long largestCompleted; // guarded by this
  private double perItemNanos = -1; // guarded by this

  ChunkSizer(int fixed, int parallelism) {
    this.fixed = fixed;
    this.parallelism = Math.max(1, parallelism);
  }

  synchronized void observe(int items, long computeNanos) {
    if (items <= 0 || computeNanos < 0) {
      return;
    }
    largestCompleted = Math.max(largestCompleted, items);
    double latest = (double) computeNanos / items;
    // Lean on the latest chunk: costs that drift along the input must be followed quickly.
    perItemNanos = perItemNanos < 0 ? latest : Math.max(latest, 0.7 * perItemNanos + 0.3 * latest);
  }

  /**
   * @param remaining items left in the input, or -1 if unknown
   * @return the size for the next chunk
   */
  synchronized int next(long remaining) {
    if (fixed > 0) {
      return fixed;
    }
    if (largestCompleted == 0) {
      return 1;
    }
    double size = TARGET_NANOS / Math.max(FLOOR_NANOS, perItemNanos);
    size = Math.min(size, (double) largestCompleted * GROWTH);
    if (remaining > 0) {
      size = Math.min(size, Math.ceil((double) remaining / parallelism));
    }
    return (int) Math.max(1, Math.min(MAX_CHUNK, size));
  }
}
