package io.flotilla.internal.scheduler;

/**
 * How a worker ended, as far as its launcher could tell.
 *
 * @param exitCode its exit code, or {@code null} if unknown (a remote worker, or one that had to be
 *     killed)
 * @param stderrTail the last lines it wrote to stderr, or {@code ""}
 * @param how what the coordinator saw, when it was more than an exit: "stopped answering (...) and
 *     was killed"; or {@code ""}
 */
public record WorkerDeath(Integer exitCode, String stderrTail, String how) {
  /** Nothing known: a worker whose process is not ours to watch. */
  public static final WorkerDeath UNKNOWN = new WorkerDeath(null, "", "");
}
