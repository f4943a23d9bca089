package io.flotilla;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Python's module functions {@code as_completed} and {@code wait}, for the futures any pool
 * returns.
 *
 * <p>Both accept futures that are {@link CompletionStage}s (every future a Flotilla pool returns is
 * a {@link CompletableFuture}); they collapse duplicates, and neither cancels anything on timeout.
 */
public final class Futures {
  private Futures() {}

  /**
   * Yields the futures as they complete: those already done first, then the others in the order
   * they finish. Duplicates are yielded once.
   *
   * @param futures the futures
   * @param timeout the most to wait in total, counted from this call, or {@code null} for no limit
   * @param <T> the result type
   * @param <F> the future type
   * @return an iterable whose iterator blocks in {@code hasNext()} and throws {@link
   *     UncheckedTimeoutException} ("N (of M) futures unfinished") when the time is up
   * @throws IllegalArgumentException if a future is not a {@link CompletionStage}
   */
  public static <T, F extends Future<T>> Iterable<F> asCompleted(
      Collection<? extends F> futures, Duration timeout) {
    Set<F> unique = new LinkedHashSet<>(futures);
    long deadline = deadline(timeout);
    LinkedBlockingQueue<F> finished = new LinkedBlockingQueue<>();
    List<F> pending = new ArrayList<>();
    for (F f : unique) {
      if (f.isDone()) {
        finished.add(f);
      } else {
        pending.add(f);
      }
    }
    for (F f : pending) {
      stage(f).whenComplete((r, e) -> finished.add(f));
    }
    int total = unique.size();
    return () ->
        new Iterator<F>() {
          private final Set<F> yielded = new LinkedHashSet<>();
          private F next;

          @Override
          public boolean hasNext() {
            if (next != null) {
              return true;
            }
            while (yielded.size() < total) {
              F f;
              try {
                long left = deadline - System.nanoTime();
                f =
                    timeout == null
                        ? finished.take()
                        : finished.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for futures", e);
              }
              if (f == null) {
                throw new UncheckedTimeoutException(
                    (total - yielded.size()) + " (of " + total + ") futures unfinished");
              }
              if (yielded.add(f)) {
                next = f;
                return true;
              }
            }
            return false;
          }

          @Override
          public F next() {
            if (!hasNext()) {
              throw new NoSuchElementException();
            }
            F f = next;
            next = null;
            return f;
          }
        };
  }

  /**
   * Waits for futures, as Python's {@code concurrent.futures.wait}.
   *
   * @param futures the futures
   * @param timeout the most to wait, or {@code null} for no limit; on expiry the sets are returned
   *     as they stand
   * @param returnWhen when to return
   * @param <T> the result type
   * @return the done and not-done futures, duplicates collapsed
   * @throws InterruptedException if interrupted while waiting
   * @throws IllegalArgumentException if a future is not a {@link CompletionStage}
   */
  public static <T> DoneAndNotDone<T> wait(
      Collection<? extends Future<T>> futures, Duration timeout, ReturnWhen returnWhen)
      throws InterruptedException {
    Set<Future<T>> unique = new LinkedHashSet<>(futures);
    long deadline = deadline(timeout);
    CompletableFuture<Void> wake = new CompletableFuture<>();
    for (Future<T> f : unique) {
      stage(f)
          .whenComplete(
              (r, e) -> {
                boolean failed = e != null && !f.isCancelled();
                if (returnWhen == ReturnWhen.FIRST_COMPLETED
                    || (returnWhen == ReturnWhen.FIRST_EXCEPTION && failed)
                    || unique.stream().allMatch(Future::isDone)) {
                  wake.complete(null);
                }
              });
    }
    if (unique.isEmpty()) {
      wake.complete(null);
    }
    try {
      if (timeout == null) {
        wake.get();
      } else {
        wake.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } catch (java.util.concurrent.TimeoutException
        | java.util.concurrent.ExecutionException ignored) {
      // on timeout the caller gets the sets as they stand
    }
    Set<Future<T>> done = new LinkedHashSet<>();
    Set<Future<T>> notDone = new LinkedHashSet<>();
    for (Future<T> f : unique) {
      (f.isDone() ? done : notDone).add(f);
    }
    return new DoneAndNotDone<>(done, notDone);
  }

  private static long deadline(Duration timeout) {
    if (timeout == null) {
      return Long.MAX_VALUE;
    }
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative, was " + timeout);
    }
    return System.nanoTime() + timeout.toNanos();
  }

  private static CompletionStage<?> stage(Future<?> f) {
    if (f instanceof CompletionStage<?> stage) {
      return stage;
    }
    throw new IllegalArgumentException(
        "only futures that are CompletionStages can be waited on, got " + f.getClass().getName());
  }
}
