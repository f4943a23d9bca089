package io.flotilla.internal.worker;

import java.util.ArrayDeque;

/**
 * When a worker host starts its task JVM again after one died. A task that kills its JVM now and
 * then (a crash, {@code System.exit}, a {@code cancel(true)}) gets a fresh JVM at once: the cluster
 * loses a worker for the second it takes to boot, not longer. Two patterns are slowed down instead:
 *
 * <ul>
 *   <li>a JVM that dies by itself before it is ready for work (a bad JVM option, a class path that
 *       does not load, no heap): starting it again at once would only repeat the failure, so each
 *       such death in a row doubles the wait;
 *   <li>more than {@link #FREE_RESTARTS} deaths within {@link #WINDOW_NANOS}: a storm of crashing
 *       tasks, which would otherwise keep a core busy booting JVMs; each further death doubles the
 *       wait.
 * </ul>
 *
 * The wait never exceeds {@link #MAX_DELAY_NANOS}. Pure and single-threaded: the caller supplies
 * the time.
 */
final class RestartBackoff {
  /**
   * How far back deaths count towards a storm. Ten seconds hold many task deaths on a busy worker,
   * and forget a storm soon after it ends.
   */
  static final long WINDOW_NANOS = 10_000_000_000L;

  /**
   * Deaths within the window restarted at once. Enough for a poison task that uses up its attempts
   * on one host, or for a chaos test killing a task JVM every few seconds; a storm beyond it is
   * slowed down.
   */
  static final int FREE_RESTARTS = 5;

  /** The first wait; each death in a row doubles it. */
  static final long FIRST_DELAY_NANOS = 500_000_000L;

  /** Long enough to spare the machine, short enough that a fixed problem is picked up soon. */
  static final long MAX_DELAY_NANOS = 30_000_000_000L;

  private final ArrayDeque<Long> deaths = new ArrayDeque<>();
  private int startFailures;

  /**
   * Records a death and says how long to wait before the next start.
   *
   * @param startFailure whether the JVM died by itself before it was ready for work
   * @param now the time, in nanoseconds on any fixed origin
   * @return the wait in nanoseconds, 0 for at once
   */
  long afterDeath(boolean startFailure, long now) {
    deaths.addLast(now);
    while (now - deaths.peekFirst() > WINDOW_NANOS) {
      deaths.pollFirst();
    }
    int excess;
    if (startFailure) {
      excess = ++startFailures;
    } else {
      startFailures = 0;
      excess = deaths.size() - FREE_RESTARTS;
    }
    if (excess <= 0) {
      return 0;
    }
    return Math.min(MAX_DELAY_NANOS, FIRST_DELAY_NANOS << Math.min(excess - 1, 16));
  }

  /**
   * @param now the time, as given to {@link #afterDeath}
   * @return deaths within the window up to now
   */
  int recentDeaths(long now) {
    int n = 0;
    for (long t : deaths) {
      if (now - t <= WINDOW_NANOS) {
        n++;
      }
    }
    return n;
  }
}
