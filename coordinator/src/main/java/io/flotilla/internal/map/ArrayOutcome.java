package io.flotilla.internal.map;

/** An outcome computed in this JVM: values and errors held as they are. */
public final class ArrayOutcome implements ChunkOutcome {
  private final Object[] values;
  private final Throwable[] errors;
  private final long computeNanos;

  /**
   * @param values one value per item (ignored where the item failed)
   * @param errors one entry per item, {@code null} where it succeeded; may be {@code null} if none
   *     failed
   * @param computeNanos time spent in the user's function, or -1
   */
  public ArrayOutcome(Object[] values, Throwable[] errors, long computeNanos) {
    this.values = values;
    this.errors = errors;
    this.computeNanos = computeNanos;
  }

  @Override
  public int size() {
    return values.length;
  }

  @Override
  public Throwable error(int i) {
    return errors == null ? null : errors[i];
  }

  @Override
  public Object value(int i) {
    return values[i];
  }

  @Override
  public long computeNanos() {
    return computeNanos;
  }
}
