package io.flotilla.internal.functions;

/** An input a function cannot take: not its encoding, or not its type. The message says which. */
public final class InputRejected extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  InputRejected(String message, Throwable cause) {
    super(message, cause);
  }
}
