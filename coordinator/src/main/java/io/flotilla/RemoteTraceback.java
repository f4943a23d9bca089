package io.flotilla;

import java.util.Optional;

/**
 * Where a worker-side failure happened: attached as a suppressed exception to every exception that
 * comes back from a worker (Python attaches {@code _RemoteTraceback} as the cause). The exception
 * itself carries the worker's stack frames; this tells which worker, process, host and item.
 */
public final class RemoteTraceback extends Exception {
  private static final long serialVersionUID = 1L;

  private final String workerId;
  private final long pid;
  private final String host;
  private final long itemIndex;

  /**
   * @param workerId the worker's id
   * @param pid the worker's process id
   * @param host the worker's host name
   * @param itemIndex the item's position in its map's input, or -1 for a submitted task
   */
  public RemoteTraceback(String workerId, long pid, String host, long itemIndex) {
    super(
        "raised in worker "
            + workerId
            + " (pid "
            + pid
            + " on "
            + host
            + ")"
            + (itemIndex >= 0 ? " while processing item " + itemIndex : ""),
        null,
        false,
        false);
    this.workerId = workerId;
    this.pid = pid;
    this.host = host;
    this.itemIndex = itemIndex;
  }

  /**
   * Finds the remote traceback attached to an exception or to one of its causes.
   *
   * @param error an exception from a future or a map
   * @return the traceback, if the exception came from a worker
   */
  public static Optional<RemoteTraceback> of(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      for (Throwable s : t.getSuppressed()) {
        if (s instanceof RemoteTraceback traceback) {
          return Optional.of(traceback);
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return Optional.empty();
  }

  /**
   * @return the worker's id
   */
  public String workerId() {
    return workerId;
  }

  /**
   * @return the worker's process id
   */
  public long pid() {
    return pid;
  }

  /**
   * @return the worker's host name
   */
  public String host() {
    return host;
  }

  /**
   * @return the item's position in its map's input, or -1 for a submitted task
   */
  public long itemIndex() {
    return itemIndex;
  }
}
