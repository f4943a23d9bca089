package io.flotilla.internal.scheduler;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Time as the scheduler sees it: a monotonic reading and one-shot timers. The scheduler never reads
 * {@link System#nanoTime()} or starts a timer thread itself, so that tests can drive its timeouts
 * and streaks by hand (a fake clock that runs due timers when told to move forward, as grpc-java's
 * {@code FakeClock} does).
 *
 * <p>Threading: both methods may be called from any thread, with the scheduler's lock held; neither
 * may block. Timer tasks run without the lock and take it themselves.
 */
interface SchedulerClock {
  /**
   * @return a monotonic reading in nanoseconds, comparable only with other readings of this clock
   */
  long nanoTime();

  /**
   * @param task what to run once the delay has passed
   * @param delayNanos the delay
   * @return a handle that stops the task if it has not run yet
   */
  Timer schedule(Runnable task, long delayNanos);

  /** Releases whatever runs the timers; pending timers never run. */
  void close();

  /** A pending timer. */
  interface Timer {
    /** Stops the timer if it has not fired; harmless afterwards. */
    void cancel();
  }

  /**
   * @return the JVM's clock, with timers on one daemon thread started at the first timer (a pool
   *     without a task timeout never starts it)
   */
  static SchedulerClock system() {
    return new SchedulerClock() {
      private ScheduledExecutorService timers; // guarded by this

      @Override
      public long nanoTime() {
        return System.nanoTime();
      }

      @Override
      public Timer schedule(Runnable task, long delayNanos) {
        ScheduledExecutorService executor;
        synchronized (this) {
          if (timers == null) {
            timers =
                Executors.newSingleThreadScheduledExecutor(
                    r -> {
                      Thread t = new Thread(r, "flotilla-task-timeouts");
                      t.setDaemon(true);
                      return t;
                    });
          }
          executor = timers;
        }
        ScheduledFuture<?> pending;
        try {
          pending = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
          // The pool is closing: a timeout that cannot fire any more has nothing left to stop.
          return () -> {};
        }
        return () -> pending.cancel(false);
      }

      @Override
      public synchronized void close() {
        if (timers != null) {
          timers.shutdownNow();
        }
      }
    };
  }
}
