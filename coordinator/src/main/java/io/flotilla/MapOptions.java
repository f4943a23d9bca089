package io.flotilla;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@code map} splits and paces its input. Immutable; every setter returns a copy and rejects
 * a bad value at once with an {@link IllegalArgumentException} naming it.
 *
 * <ul>
 *   <li>{@link #chunkSize(int)}: items sent to a worker at a time. By default it is chosen while
 *       the map runs: the first chunks hold one item each, and later chunks are sized from the
 *       measured time per item so that each takes a few milliseconds, which keeps trivial functions
 *       from paying one round trip per item and slow ones balanced across workers.
 *   <li>{@link #window(int)}: chunks submitted but not yet consumed by the caller (Python 3.14's
 *       {@code buffersize}, counted in chunks). Input is read only as results are consumed, so
 *       memory stays bounded whatever the input's length. By default four per worker thread.
 *   <li>{@link #timeout(Duration)}: a deadline for the whole map, counted from the {@code map} call
 *       (Python semantics). When it passes, the iterator throws {@link UncheckedTimeoutException}
 *       and the work not yet started is cancelled.
 * </ul>
 */
public final class MapOptions {
  private static final MapOptions DEFAULTS = new MapOptions(0, 0, null);

  private final int chunkSize;
  private final int window;
  private final Duration timeout;

  private MapOptions(int chunkSize, int window, Duration timeout) {
    this.chunkSize = chunkSize;
    this.window = window;
    this.timeout = timeout;
  }

  /**
   * @return the defaults: automatic chunk size and window, no timeout
   */
  public static MapOptions defaults() {
    return DEFAULTS;
  }

  /**
   * @param items items per chunk, at least 1
   * @return a copy with a fixed chunk size
   */
  public MapOptions chunkSize(int items) {
    if (items < 1) {
      throw new IllegalArgumentException("chunkSize must be at least 1, was " + items);
    }
    return new MapOptions(items, window, timeout);
  }

  /**
   * @param chunks chunks in flight, at least 1
   * @return a copy with a fixed window
   */
  public MapOptions window(int chunks) {
    if (chunks < 1) {
      throw new IllegalArgumentException("window must be at least 1 chunk, was " + chunks);
    }
    return new MapOptions(chunkSize, chunks, timeout);
  }

  /**
   * @param timeout a positive duration, counted from the {@code map} call
   * @return a copy with a deadline for the whole map
   */
  public MapOptions timeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    return new MapOptions(chunkSize, window, timeout);
  }

  /**
   * @return the fixed chunk size, or 0 for automatic
   */
  public int chunkSize() {
    return chunkSize;
  }

  /**
   * @return the fixed window, or 0 for automatic
   */
  public int window() {
    return window;
  }

  /**
   * @return the deadline, or {@code null} for none
   */
  public Duration timeout() {
    return timeout;
  }

  @Override
  public String toString() {
    return "MapOptions[chunkSize="
        + (chunkSize == 0 ? "auto" : chunkSize)
        + ", window="
        + (window == 0 ? "auto" : window)
        + ", timeout="
        + timeout
        + "]";
  }
}
