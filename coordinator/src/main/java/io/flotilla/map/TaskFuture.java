package io.flotilla.map;

import java.util.concurrent.CompletableFuture;

/**
 * The future of a submitted task. It differs from a plain {@link CompletableFuture} in one way, which is
 * Python's: {@link #cancel} succeeds only while the task has not started, and then the task never runs.
 *
 * @param <R> the result type
 */
public final class TaskFuture<R> extends CompletableFuture<R> {
  private volatile ChunkBackend.ChunkTicket ticket;

  /** @param ticket the handle of the chunk carrying this task */
  public void attach(ChunkBackend.ChunkTicket ticket) {
    this.ticket = ticket;
  }

  /**
   * Cancels the task if it has not started; with {@code mayInterruptIfRunning}, a running task too, where
   * the pool can stop it (a process pool kills and replaces the worker running it; a thread pool cannot
   * stop a thread, and returns {@code false}). A cancelled task is never retried.
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
    boolean stopped = mayInterruptIfRunning ? t.abort() : t.cancelIfNotStarted();
    return stopped && super.cancel(mayInterruptIfRunning);
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

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new CompletableFuture<>();
  }
}
