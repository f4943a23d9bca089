package io.flotilla;

/**
 * The worker running a task died before returning its result, as many times as the pool allows
 * attempts. It names the worker and how it died, so that "the pool broke" never has to be the whole
 * story.
 */
public class WorkerCrashedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String workerId;
  private final long pid;
  private final String host;
  private final Integer exitCode;
  private final String stderrTail;
  private final int attempts;
  private final long itemIndex;
  private final String how;

  /**
   * @param workerId the last worker that died running it
   * @param pid that worker's process id
   * @param exitCode its exit code, or {@code null} if not known (a remote worker); 128+N means
   *     signal N
   * @param stderrTail the last lines it wrote to stderr
   * @param attempts how many times the task was tried
   * @param itemIndex the first item of the chunk in its map's input, or -1 for a submitted task
   * @param how what the pool saw beyond the exit, such as "it stopped answering (...) and was
   *     killed", or {@code ""}
   */
  public WorkerCrashedException(
      String workerId,
      long pid,
      Integer exitCode,
      String stderrTail,
      int attempts,
      long itemIndex,
      String how) {
    this(workerId, pid, "", exitCode, stderrTail, attempts, itemIndex, how);
  }

  /**
   * The same, naming the worker's machine.
   *
   * @param workerId the last worker that died running it
   * @param pid that worker's process id
   * @param host the machine it ran on, or {@code ""}
   * @param exitCode its exit code, or {@code null} if not known; 128+N means signal N
   * @param stderrTail the last lines it wrote to stderr
   * @param attempts how many times the task was tried
   * @param itemIndex the first item of the chunk in its map's input, or -1 for a submitted task
   * @param how what the pool saw beyond the exit, or {@code ""}
   */
  public WorkerCrashedException(
      String workerId,
      long pid,
      String host,
      Integer exitCode,
      String stderrTail,
      int attempts,
      long itemIndex,
      String how) {
    super(message(workerId, pid, host, exitCode, stderrTail, attempts, itemIndex, how));
    this.how = how;
    this.workerId = workerId;
    this.pid = pid;
    this.host = host == null ? "" : host;
    this.exitCode = exitCode;
    this.stderrTail = stderrTail;
    this.attempts = attempts;
    this.itemIndex = itemIndex;
  }

  private static String message(
      String workerId,
      long pid,
      String host,
      Integer exitCode,
      String stderrTail,
      int attempts,
      long itemIndex,
      String how) {
    StringBuilder m = new StringBuilder("worker ").append(workerId).append(" (pid ").append(pid);
    if (host != null && !host.isEmpty()) {
      m.append(" on ").append(host);
    }
    m.append(") died");
    if (how != null && !how.isEmpty()) {
      m.append(" (").append(how).append(')');
    }
    if (stderrTail != null && stderrTail.contains("OutOfMemoryError")) {
      m.append(" (out of heap memory: raise -Xmx with jvmArgs, or use less per task)");
    }
    if (exitCode != null) {
      m.append(" with exit code ").append(exitCode);
      if (exitCode > 128 && exitCode < 160) {
        m.append(" (signal ").append(exitCode - 128).append(')');
      }
    }
    m.append(itemIndex >= 0 ? " while running item " + itemIndex : " while running a task");
    m.append(", after ").append(attempts).append(attempts == 1 ? " attempt" : " attempts");
    if (stderrTail != null && !stderrTail.isBlank()) {
      m.append("; its stderr ended with:\n").append(stderrTail);
    }
    return m.toString();
  }

  /**
   * @return the id of the last worker that died running the task
   */
  public String workerId() {
    return workerId;
  }

  /**
   * @return that worker's process id
   */
  public long pid() {
    return pid;
  }

  /**
   * @return the machine the worker ran on, or {@code ""} when not known
   */
  public String host() {
    return host;
  }

  /**
   * @return its exit code, or {@code null} when not known
   */
  public Integer exitCode() {
    return exitCode;
  }

  /**
   * @return the last lines the worker wrote to stderr, possibly empty
   */
  public String stderrTail() {
    return stderrTail;
  }

  /**
   * @return how many times the task was tried
   */
  public int attempts() {
    return attempts;
  }

  /**
   * @return the first item of the chunk in its map's input, or -1 for a submitted task
   */
  public long itemIndex() {
    return itemIndex;
  }

  /**
   * @return whether the worker ran out of heap: workers exit at once on an OutOfMemoryError, and
   *     say so on stderr
   */
  public boolean outOfMemory() {
    return stderrTail != null && stderrTail.contains("OutOfMemoryError");
  }

  /**
   * @return what the pool saw beyond the exit (a worker that stopped answering), or {@code ""}
   */
  public String how() {
    return how;
  }
}
