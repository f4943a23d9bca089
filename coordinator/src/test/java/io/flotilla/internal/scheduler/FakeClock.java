package io.flotilla.internal.scheduler;

import java.time.Duration;
import java.util.PriorityQueue;

/**
 * A {@link SchedulerClock} that moves only when told: {@link #forward} runs every timer that falls
 * due, in order, on the calling thread. Tests drive timeouts and streaks with it in microseconds of
 * real time.
 */
final class FakeClock implements SchedulerClock {
  private long now = 1_000_000_000L;
  private long sequence;
  private final PriorityQueue<Pending> timers =
      new PriorityQueue<>(
          (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.order, b.order));

  private final class Pending implements Timer {
    final long due;
    final long order;
    final Runnable task;

    Pending(long due, long order, Runnable task) {
      this.due = due;
      this.order = order;
      this.task = task;
    }

    @Override
    public void cancel() {
      synchronized (FakeClock.this) {
        timers.remove(this);
      }
    }
  }

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public synchronized Timer schedule(Runnable task, long delayNanos) {
    Pending pending = new Pending(now + delayNanos, sequence++, task);
    timers.add(pending);
    return pending;
  }

  @Override
  public synchronized void close() {
    timers.clear();
  }

  /**
   * Moves time forward, running each timer that falls due at its own time, outside this clock's
   * lock.
   */
  void forward(Duration by) {
    long target;
    synchronized (this) {
      target = now + by.toNanos();
    }
    while (true) {
      Pending next;
      synchronized (this) {
        next = timers.peek();
        if (next == null || next.due > target) {
          now = target;
          return;
        }
        timers.poll();
        now = next.due;
      }
      next.task.run();
    }
  }

  /**
   * @return timers armed and not yet run or cancelled
   */
  synchronized int pendingTimers() {
    return timers.size();
  }
}
