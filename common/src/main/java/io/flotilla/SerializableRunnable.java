package io.flotilla;

import java.io.Serializable;

/**
 * An action that can be sent to a worker JVM, such as a pool's initializer (Python's {@code
 * initializer}/{@code initargs}: capture the arguments in the lambda).
 */
@FunctionalInterface
public interface SerializableRunnable extends Serializable {
  /**
   * Runs the action.
   *
   * @throws Exception anything; for an initializer, it breaks the pool
   */
  void run() throws Exception;
}
