package io.flotilla;

import java.util.concurrent.RejectedExecutionException;

/**
 * The pool cannot run tasks any more (Python's {@code BrokenProcessPool}): its initializer failed,
 * or no worker could be started. Pending tasks fail with it and new submissions are rejected with
 * it; the cause says what broke the pool.
 */
public class BrokenPoolException extends RejectedExecutionException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what broke
   * @param cause the underlying failure, or {@code null}
   */
  public BrokenPoolException(String message, Throwable cause) {
    super(message, cause);
  }
}
