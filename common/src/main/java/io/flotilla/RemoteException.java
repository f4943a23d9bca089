package io.flotilla;

/**
 * An exception raised in a worker whose class could not be rebuilt in the caller's JVM (the class
 * is missing here, or has no constructor taking a message). It keeps the original class name and
 * message; its stack trace is the worker's, and its cause chain is rebuilt the same way.
 */
public class RemoteException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String remoteClassName;

  /**
   * Creates an exception standing for a remote one.
   *
   * @param remoteClassName the fully qualified class name of the exception raised in the worker
   * @param remoteMessage its message, or {@code null}
   */
  public RemoteException(String remoteClassName, String remoteMessage) {
    super(remoteMessage == null ? remoteClassName : remoteClassName + ": " + remoteMessage);
    this.remoteClassName = remoteClassName;
  }

  /**
   * @return the fully qualified class name of the exception raised in the worker
   */
  public String remoteClassName() {
    return remoteClassName;
  }
}
