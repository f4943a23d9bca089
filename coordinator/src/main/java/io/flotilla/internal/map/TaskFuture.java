package io.flotilla.internal.map;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * The future of a submitted task. It differs from a plain {@link CompletableFuture} in one way,
 * which is Python's: {@link #cancel} succeeds only while the task has not started, and then the
 * task never runs.
 *
 * <p>Threading: the outcome reaches this future on a thread that must not run user code (a network
 * thread), so it is completed on the pool's callback executor, or, when a thread is already blocked
 * in {@link #get()}, {@link #get(long, TimeUnit)} or {@link #join()}, by that thread itself. Either
 * way, dependent actions run on a callback thread or on the caller's own thread, never on a network
 * thread.
 *
 * @param <R> the result type
 */
public final class TaskFuture<R> extends CompletableFuture<R> {
  /*
   * Implementation notes: the direct hand-off. A caller blocked in get() would otherwise be woken by a
   * callback thread that was itself woken by the network thread: two thread wake-ups on the path of every
   * sequential round trip, each costing tens of microseconds on a small machine. Instead the blocked
   * caller publishes a Waiter in `slot`; the delivering thread swaps it for the outcome with one CAS and
   * unparks the caller, which completes the future itself. The CAS decides who completes: if the caller
   * has given up (timeout, interrupt) it has already swapped its Waiter out, the CAS fails, and the outcome
   * goes to the callback executor as usual. Completion by any other route (cancel, a broken pool)
   * unparks the waiter too, so it never sleeps through it. At most one thread waits directly; others wait
   * the ordinary way.
   */

  private static final Object TAKEN = new Object();
  private static final VarHandle SLOT;

  static {
    try {
      SLOT = MethodHandles.lookup().findVarHandle(TaskFuture.class, "slot", Object.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** A thread blocked waiting for the outcome. */
  private record Waiter(Thread thread) {}

  /** null, a Waiter, a delivered ChunkOutcome not yet taken, or TAKEN. */
  @SuppressWarnings("unused") // accessed through SLOT
  private volatile Object slot;

  private volatile ChunkBackend.ChunkTicket ticket;

  /**
   * @param ticket the handle of the chunk carrying this task
   */
  public void attach(ChunkBackend.ChunkTicket ticket) {
    this.ticket = ticket;
  }

  /**
   * Cancels the task if it has not started; with {@code mayInterruptIfRunning}, a running task too,
   * where the pool can stop it (a process pool kills and replaces the worker running it; a thread
   * pool cannot stop a thread, and returns {@code false}). A cancelled task is never retried.
   *
   * @param mayInterruptIfRunning whether a running task may be stopped
   * @return {@code true} if the task is now cancelled (including if it already was)
   */
  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    if (isDone()) {
      return isCancelled();
    }
    ChunkBackend.ChunkTicket t = ticket;
    if (t == null) {
      return false;
    }
    // Without interruption, a task already handed to a worker but waiting there is asked back: it
    // has
    // not started, so it must be cancellable, and then never run.
    boolean stopped = mayInterruptIfRunning ? t.abort() : t.withdraw().join();
    boolean cancelled = stopped && super.cancel(mayInterruptIfRunning);
    wakeWaiter();
    return cancelled;
  }

  /**
   * Completes this future from a single-item chunk outcome.
   *
   * @param outcome the outcome
   */
  @SuppressWarnings("unchecked")
  public void completeFrom(ChunkOutcome outcome) {
    Throwable error;
    Object value = null;
    try {
      error = outcome.error(0);
      if (error == null) {
        value = outcome.value(0);
      }
    } catch (RuntimeException e) {
      error = e;
    }
    if (error != null) {
      completeExceptionally(error);
    } else {
      complete((R) value);
    }
  }

  /**
   * Hands the outcome to the thread blocked waiting for it, or else completes this future on {@code
   * completions}.
   *
   * @param outcome the single-item outcome
   * @param completions where the future is completed when nobody waits directly
   */
  public void deliver(ChunkOutcome outcome, Executor completions) {
    Object s = slot;
    if (s instanceof Waiter w && SLOT.compareAndSet(this, s, outcome)) {
      LockSupport.unpark(w.thread());
      return;
    }
    completions.execute(() -> completeFrom(outcome));
  }

  /**
   * Blocks until the outcome is delivered to this thread (then completes the future here), the
   * future is completed by another route, or the deadline passes.
   *
   * @param deadline a {@link System#nanoTime()} deadline, or 0 for none
   * @param interruptible whether an interrupt ends the wait
   * @return {@code false} if interrupted
   */
  private boolean awaitDelivery(long deadline, boolean interruptible) {
    Waiter me = new Waiter(Thread.currentThread());
    if (isDone() || !SLOT.compareAndSet(this, null, me)) {
      return true;
    }
    boolean interrupted = false;
    while (slot == me && !isDone()) {
      long now = System.nanoTime();
      if (deadline != 0 && now - deadline >= 0) {
        break;
      }
      if (Thread.interrupted()) {
        interrupted = true;
        if (interruptible) {
          break;
        }
      }
      // No spinning first: measured on two cores, a spinning caller slows the very threads it waits
      // for.
      LockSupport.parkNanos(this, deadline == 0 ? Long.MAX_VALUE : deadline - now);
    }
    if (!SLOT.compareAndSet(this, me, null)) {
      Object s = slot;
      if (s instanceof ChunkOutcome outcome && SLOT.compareAndSet(this, s, TAKEN)) {
        completeFrom(outcome);
      }
    }
    if (interrupted && !interruptible) {
      Thread.currentThread().interrupt();
    }
    return !(interrupted && interruptible);
  }

  @Override
  public R get() throws InterruptedException, ExecutionException {
    if (!awaitDelivery(0, true)) {
      throw new InterruptedException();
    }
    return super.get();
  }

  @Override
  public R get(long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    long nanos = unit.toNanos(timeout);
    if (nanos > 0) {
      long deadline = System.nanoTime() + nanos;
      if (!awaitDelivery(deadline == 0 ? 1 : deadline, true)) {
        throw new InterruptedException();
      }
      return super.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
    return super.get(timeout, unit);
  }

  @Override
  public R join() {
    awaitDelivery(0, false);
    return super.join();
  }

  @Override
  public boolean complete(R value) {
    boolean done = super.complete(value);
    wakeWaiter();
    return done;
  }

  @Override
  public boolean completeExceptionally(Throwable error) {
    boolean done = super.completeExceptionally(error);
    wakeWaiter();
    return done;
  }

  private void wakeWaiter() {
    if (slot instanceof Waiter w) {
      LockSupport.unpark(w.thread());
    }
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new CompletableFuture<>();
  }
}
