package io.flotilla.internal.codec;

/**
 * A value could not be encoded or decoded. The message names the value's class and what went wrong;
 * the boundary (submitting, returning from the worker, ...) is added by whoever reports it.
 */
public final class CodecException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String valueClass;

  CodecException(String valueClass, String message, Throwable cause) {
    super(message, cause);
    this.valueClass = valueClass;
  }

  /**
   * @return the class of the value that failed, or {@code "?"} when decoding could not tell
   */
  public String valueClass() {
    return valueClass;
  }
}
