package io.flotilla;

/**
 * A function, argument or result could not cross the JVM boundary. The message names the value's
 * class and {@link #boundary() where} it failed; the cause is the serializer's own report.
 */
public class SerializationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Where a value failed to cross, in the order a task meets them. */
  public enum Boundary {
    /** The caller encoding a function or argument, when submitting. */
    ENCODE_TASK("submitting: encoding the task in the caller"),
    /** The worker decoding a function or argument. */
    DECODE_TASK("decoding the task in the worker"),
    /** The worker encoding a result, when returning from the worker. */
    ENCODE_RESULT("returning from the worker: encoding the result"),
    /** The caller decoding a result. */
    DECODE_RESULT("decoding the result in the caller");

    private final String description;

    Boundary(String description) {
      this.description = description;
    }

    /**
     * @return what was being done, in words
     */
    public String description() {
      return description;
    }
  }

  private final Boundary boundary;
  private final String valueClass;

  /**
   * @param boundary where it failed
   * @param valueClass the class of the value that failed, or {@code "?"} if unknown
   * @param detail the serializer's explanation
   * @param cause the serializer's exception, or {@code null}
   */
  public SerializationException(
      Boundary boundary, String valueClass, String detail, Throwable cause) {
    super(detail + " (" + boundary.description() + ")", cause);
    this.boundary = boundary;
    this.valueClass = valueClass;
  }

  /**
   * @return where the value failed to cross
   */
  public Boundary boundary() {
    return boundary;
  }

  /**
   * @return the class of the value that failed, or {@code "?"} when the decoder could not tell
   */
  public String valueClass() {
    return valueClass;
  }
}
