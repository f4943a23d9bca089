package io.flotilla.internal.map;

/**
 * The outcome of one chunk: for every item, a value or an exception. Implementations may decode
 * lazily, so that a result that cannot be decoded fails its own item only, on the thread that reads
 * it.
 *
 * <p>Threading: read by one thread at a time.
 */
public interface ChunkOutcome {
  /**
   * @return the number of items
   */
  int size();

  /**
   * @param i an item's position in the chunk
   * @return its exception, or {@code null} if it succeeded
   */
  Throwable error(int i);

  /**
   * @param i an item's position in the chunk, whose {@link #error} is {@code null}
   * @return its value
   */
  Object value(int i);

  /**
   * @return nanoseconds spent in the user's function for the whole chunk, or -1 if unknown
   */
  long computeNanos();

  /**
   * @return whether the items not covered were handed back because the chunk killed its worker or
   *     ran past its timeout, rather than yielded: they must run as {@link
   *     ChunkBackend.Start#SUSPECT}
   */
  default boolean suspect() {
    return false;
  }

  /**
   * @return the position in the chunk of this outcome's first item
   */
  default int base() {
    return 0;
  }

  /**
   * @return the size of the results as they travelled, in bytes, or 0 when they did not travel
   */
  default long bytes() {
    return 0;
  }

  /**
   * @return whether more outcomes of the same chunk follow: it is still running
   */
  default boolean partial() {
    return false;
  }

  /**
   * @param size the number of items
   * @param error the exception every item fails with
   * @return an outcome in which every item failed with {@code error}
   */
  static ChunkOutcome failed(int size, Throwable error) {
    return failed(size, error, 0);
  }

  /**
   * @param size the number of items
   * @param error the exception every item fails with
   * @param base the position in the chunk of the first of them
   * @return a final outcome in which every item failed with {@code error}
   */
  static ChunkOutcome failed(int size, Throwable error, int base) {
    return new ChunkOutcome() {
      @Override
      public int size() {
        return size;
      }

      @Override
      public int base() {
        return base;
      }

      @Override
      public Throwable error(int i) {
        return error;
      }

      @Override
      public Object value(int i) {
        throw new IllegalStateException("item " + i + " failed", error);
      }

      @Override
      public long computeNanos() {
        return -1;
      }
    };
  }
}
