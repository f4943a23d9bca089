package io.flotilla.map;

/**
 * Picks the size of a map's next chunk from what earlier chunks measured, when the user has not fixed it.
 *
 * <p>Phases:
 *
 * <ol>
 *   <li><b>Probing.</b> The first {@link #probes()} chunks hold one item each, and no other chunk is
 *       submitted until they have all reported: nothing is known yet, a slow function must not be
 *       bundled with its neighbours, and the first items are often the cheapest (the seed's hash
 *       workload costs nothing for items 0 and 1 and grows quadratically after).
 *   <li><b>Sizing.</b> Each completed chunk reports how long its items took in the user's function.
 *       The next chunk is sized to take about {@link #TARGET_NANOS} at the estimated cost per item,
 *       which leans on the latest measurement so that a cost drifting along the input is followed.
 *   <li><b>Tail.</b> When the input's length is known, a chunk never takes more than an equal share of
 *       what is left per worker thread (guided self-scheduling): chunks shrink towards the end, so the
 *       last ones balance across workers even when the estimate is wrong.
 * </ol>
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

  /**
   * Single-item chunks measured before any bigger chunk (at least one per worker thread). Four let the
   * seed's hash workload, whose first two items cost nothing, show its real cost before it is chunked.
   */
  static final int MIN_PROBES = 4;

  /** Upper bound, keeping one chunk's encoded size and its latency reasonable. */
  static final int MAX_CHUNK = 32_768;

  private final int fixed;
  private final int parallelism;
  private final int probes;
  private int observed; // guarded by this
  private double perItemNanos = -1; // guarded by this

  ChunkSizer(int fixed, int parallelism) {
    this.fixed = fixed;
    this.parallelism = Math.max(1, parallelism);
    this.probes = Math.max(MIN_PROBES, this.parallelism);
  }

  /** @return how many single-item chunks are measured before chunks grow */
  int probes() {
    return probes;
  }

  /** @return whether the probes are still out, so no more chunks should be submitted yet */
  synchronized boolean probing() {
    return fixed == 0 && observed < probes;
  }

  synchronized void observe(int items, long computeNanos) {
    if (items <= 0 || computeNanos < 0) {
      return;
    }
    observed++;
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
    if (observed < probes) {
      return 1;
    }
    double size = TARGET_NANOS / Math.max(FLOOR_NANOS, perItemNanos);
    if (remaining > 0) {
      size = Math.min(size, Math.ceil((double) remaining / parallelism));
    }
    return (int) Math.max(1, Math.min(MAX_CHUNK, size));
  }
}
