package io.flotilla;

import java.util.concurrent.TimeoutException;

/**
 * A deadline set by the caller expired: the timeout of a {@code map} or of {@link
 * Futures#asCompleted}. It is unchecked because iterators cannot throw checked exceptions; its
 * cause is a {@link TimeoutException} with the same message. A {@code TimeoutException} thrown by
 * the task itself is not this: it is an ordinary task failure.
 */
public class UncheckedTimeoutException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what timed out, and how much was left unfinished
   */
  public UncheckedTimeoutException(String message) {
    super(message, new TimeoutException(message));
  }
}
