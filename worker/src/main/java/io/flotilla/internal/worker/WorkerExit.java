package io.flotilla.internal.worker;

/**
 * A worker JVM's exit codes, which its supervisor (systemd, Kubernetes, a local pool) acts on: zero
 * when it stopped as it was asked to, and a distinct code for each reason it gave up. {@code
 * flotilla worker --help} lists them from here.
 *
 * <p>Restarting helps after {@link #COORDINATOR_LOST} and {@link #RESTART}; after {@link #REFUSED}
 * it only repeats the refusal until the configuration changes.
 */
public final class WorkerExit {
  /**
   * Stopped as asked: SIGTERM or SIGINT, or its coordinator said it is stopping (a local pool's
   * worker: its pool closed).
   */
  public static final int STOPPED = 0;

  /** An unexpected error: a bug, with its stack trace on standard error. */
  public static final int FAILED = 1;

  /** The command line or a setting is wrong. */
  public static final int USAGE = 2;

  /**
   * Refused: the coordinator turned this worker away (wrong or missing secret, a certificate it
   * does not trust, TLS on one side only, another release), or this worker the coordinator.
   */
  public static final int REFUSED = 64;

  /** A local pool's worker whose initializer threw. */
  public static final int INITIALIZER_FAILED = 65;

  /**
   * Lost its coordinator: it cannot be reached, went away without a word, or did not admit this
   * worker to the cluster; or the cluster downed this worker.
   */
  public static final int COORDINATOR_LOST = 66;

  /**
   * Its coordinator asked for a fresh worker in its place: to stop a task it was running ({@code
   * cancel(true)}), or to recycle it.
   */
  public static final int RESTART = 67;

  /** A local pool's worker whose pool process went away. */
  public static final int ORPHANED = 70;

  private WorkerExit() {}
}
