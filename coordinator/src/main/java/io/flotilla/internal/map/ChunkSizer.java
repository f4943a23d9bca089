package io.flotilla.internal.map;

/**
 * Picks the size of a map's next chunk, when the user has not fixed it.
 *
 * <p>Chunks can be generous because they are not final: a chunk yields its unstarted items when a
 * worker goes idle (work stealing), and sends its results in pieces every 10 ms, see {@link
 * ChunkBackend}. So the sizer only has to keep the number of round trips low, not to guess the
 * balance right:
 *
 * <ul>
 *   <li>When the input's length is known, it is split evenly, one chunk per worker thread: a
 *       thousand trivial items go out as two chunks on two workers, one round trip each, while
 *       twenty expensive ones are split further by stealing as workers free up.
 *   <li>When it is not, chunks start at {@link #INITIAL_UNKNOWN} items and are then sized from the
 *       measured time per item to take about {@link #TARGET_NANOS}.
 *   <li>Either way a chunk is at most {@link #MAX_CHUNK} items, and at most {@link
 *       #MAX_CHUNK_NANOS} of measured work, so results of an ordered map start to flow early.
 *   <li>And once results turn out large, a chunk's results are at most {@link #SLOT_BYTES}: the
 *       window, counted in chunks, then bounds the caller's memory in bytes too. A chunk already
 *       running when that is learnt is split by {@link MapRun} into parts of {@link #PART_BYTES}.
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class ChunkSizer {
  /** Work per chunk to aim for when the input's length is unknown. */
  static final long TARGET_NANOS = 5_000_000;

  /** Most measured work per chunk: results and progress then start to flow early. */
  static final long MAX_CHUNK_NANOS = 50_000_000;

  /** Per-item cost assumed at least, covering the encoding the worker does not measure. */
  static final long FLOOR_NANOS = 100;

  /** First chunks of an input of unknown length, before anything is measured. */
  static final int INITIAL_UNKNOWN = 16;

  /** Upper bound, keeping one chunk's encoded size and the caller's memory reasonable. */
  static final int MAX_CHUNK = 32_768;

  /**
   * Most bytes of results one chunk of a map should produce, once results are known to be large.
   */
  static final long SLOT_BYTES = 32L << 20;

  /** Bytes of results per part when a chunk with large results is run a few items at a time. */
  static final long PART_BYTES = 1L << 20;

  private final int fixed;
  private final int parallelism;
  private final long knownTotal;
  private double perItemNanos = -1; // guarded by this
  private double perItemBytes; // guarded by this

  /**
   * @param fixed the user's chunk size, or 0 for automatic
   * @param parallelism worker threads in all
   * @param knownTotal the input's length, or -1 if unknown
   */
  public ChunkSizer(int fixed, int parallelism, long knownTotal) {
    this.fixed = fixed;
    this.parallelism = Math.max(1, parallelism);
    this.knownTotal = knownTotal;
  }

  /**
   * @param items how many items an outcome covered
   * @param computeNanos time spent in the function for them, or -1 if unknown
   * @param bytes the size of their results as they travelled, or 0
   */
  public synchronized void observe(int items, long computeNanos, long bytes) {
    if (items <= 0) {
      return;
    }
    double latestBytes = (double) bytes / items;
    perItemBytes = Math.max(latestBytes, 0.7 * perItemBytes + 0.3 * latestBytes);
    if (computeNanos < 0) {
      return;
    }
    double latest = (double) computeNanos / items;
    // Lean on the latest chunk: costs that drift along the input must be followed quickly.
    perItemNanos = perItemNanos < 0 ? latest : Math.max(latest, 0.7 * perItemNanos + 0.3 * latest);
  }

  /**
   * @return the size for the next chunk
   */
  public synchronized int next() {
    if (fixed > 0) {
      return fixed;
    }
    double perItem = Math.max(FLOOR_NANOS, perItemNanos);
    double size;
    if (knownTotal >= 0) {
      size = Math.ceil((double) knownTotal / parallelism);
    } else {
      size = perItemNanos < 0 ? INITIAL_UNKNOWN : TARGET_NANOS / perItem;
    }
    if (perItemNanos >= 0) {
      size = Math.min(size, MAX_CHUNK_NANOS / perItem);
    }
    if (perItemBytes > 0) {
      size = Math.min(size, SLOT_BYTES / perItemBytes);
    }
    return (int) Math.max(1, Math.min(MAX_CHUNK, size));
  }

  /**
   * @return whether {@code items} more items would produce more than {@link #SLOT_BYTES} of results
   */
  synchronized boolean heavy(int items) {
    return perItemBytes * items > SLOT_BYTES;
  }

  /**
   * @return how many items make a part of about {@link #PART_BYTES} of results
   */
  synchronized int itemsPerPart() {
    return (int) Math.max(1, Math.min(MAX_CHUNK, PART_BYTES / Math.max(1, perItemBytes)));
  }
}
