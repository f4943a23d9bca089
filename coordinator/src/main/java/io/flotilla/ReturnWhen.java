package io.flotilla;

/** When {@link Futures#wait} returns, as Python's {@code concurrent.futures.wait}. */
public enum ReturnWhen {
  /** As soon as any future finishes or is cancelled. */
  FIRST_COMPLETED,
  /** As soon as any future fails; if none fails, when all have finished. */
  FIRST_EXCEPTION,
  /** When every future has finished or been cancelled. */
  ALL_COMPLETED
}
