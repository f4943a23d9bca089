package io.flotilla;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * The interface shared by {@link ProcessPool} and {@link ThreadPool}, so that moving a workload
 * from threads to worker processes is one changed line. It is an {@link ExecutorService} with the
 * shape of Python's {@code concurrent.futures.Executor}:
 *
 * <table>
 *   <caption>Python and Flotilla</caption>
 *   <tr><th>Python</th><th>Flotilla</th></tr>
 *   <tr><td>{@code executor.submit(fn, x)}</td><td>{@link #submit(SerializableFunction, Object)},
 *       {@link #submit(SerializableCallable)}</td></tr>
 *   <tr><td>{@code executor.map(fn, xs, timeout=, chunksize=, buffersize=)}</td>
 *       <td>{@link #map(SerializableFunction, Iterable, MapOptions)}</td></tr>
 *   <tr><td>{@code as_completed(fs, timeout)}, {@code wait(fs, timeout, return_when)}</td>
 *       <td>{@link Futures#asCompleted}, {@link Futures#wait}</td></tr>
 *   <tr><td>{@code executor.shutdown(wait, cancel_futures)}</td>
 *       <td>{@link #shutdown(boolean, boolean)}</td></tr>
 *   <tr><td>{@code with executor:}</td><td>try-with-resources ({@link #close()})</td></tr>
 * </table>
 *
 * <p><b>Futures.</b> Every future is a {@link CompletableFuture}. A task's exception completes it
 * exceptionally with that exception (rebuilt in this JVM when it came from a worker, with a {@link
 * RemoteTraceback} attached). {@code cancel} succeeds only while the task has not started, and a
 * cancelled task never runs; a running or finished task cannot be cancelled.
 *
 * <p><b>Lifecycle.</b> RUNNING → SHUTDOWN on {@link #shutdown()} (no new tasks; accepted ones
 * finish) → TERMINATED when the last accepted task has finished and the workers have exited. States
 * only move forward. Submitting after shutdown throws {@link
 * java.util.concurrent.RejectedExecutionException}; submitting to a broken pool throws {@link
 * BrokenPoolException}.
 *
 * <p><b>Threading.</b> All methods are thread-safe. Completion callbacks of futures run on a pool
 * thread: keep them short, or use the {@code ...Async} variants.
 */
public interface PoolExecutor extends ExecutorService, AutoCloseable {

  /**
   * Submits a task.
   *
   * @param task the task; for a process pool it must be serializable (a lambda typed as {@link
   *     SerializableCallable} is)
   * @param <R> the result type
   * @return its future; a task that cannot be encoded fails it with {@link SerializationException}
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  <R> CompletableFuture<R> submit(SerializableCallable<R> task);

  /**
   * Submits {@code fn.apply(arg)}, Python's {@code submit(fn, arg)}.
   *
   * @param fn the function
   * @param arg its argument
   * @param <T> the argument type
   * @param <R> the result type
   * @return its future
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  <T, R> CompletableFuture<R> submit(SerializableFunction<T, R> fn, T arg);

  /**
   * Submits a plain {@link Callable}. On a process pool it runs only if the object is in fact
   * serializable; otherwise the future fails with {@link SerializationException}.
   */
  @Override
  <R> CompletableFuture<R> submit(Callable<R> task);

  @Override
  CompletableFuture<?> submit(Runnable task);

  @Override
  <R> CompletableFuture<R> submit(Runnable task, R result);

  /**
   * Applies {@code fn} to every item, yielding results in input order, lazily and with a bounded
   * window in flight; see {@link MapResults} and {@link MapOptions}.
   *
   * @param fn the function
   * @param items the input; read only as results are consumed
   * @param options chunking, window and timeout
   * @param <T> the item type
   * @param <R> the result type
   * @return the results
   * @throws SerializationException if {@code fn} cannot be encoded
   * @throws java.util.concurrent.RejectedExecutionException after shutdown
   */
  <T, R> MapResults<R> map(
      SerializableFunction<T, R> fn, Iterable<? extends T> items, MapOptions options);

  /** {@link #map(SerializableFunction, Iterable, MapOptions)} with default options. */
  default <T, R> MapResults<R> map(SerializableFunction<T, R> fn, Iterable<? extends T> items) {
    return map(fn, items, MapOptions.defaults());
  }

  /** {@link #map(SerializableFunction, Iterable, MapOptions)} over a stream, read lazily. */
  default <T, R> MapResults<R> map(
      SerializableFunction<T, R> fn, Stream<? extends T> items, MapOptions options) {
    return map(fn, iterableOnce(items), options);
  }

  /**
   * {@link #map(SerializableFunction, Iterable, MapOptions)} over a stream with default options.
   */
  default <T, R> MapResults<R> map(SerializableFunction<T, R> fn, Stream<? extends T> items) {
    return map(fn, iterableOnce(items), MapOptions.defaults());
  }

  /**
   * As {@link #map(SerializableFunction, Iterable, MapOptions)}, but yields each result as soon as
   * it arrives, in no particular order; every result is yielded exactly once.
   */
  <T, R> MapResults<R> mapUnordered(
      SerializableFunction<T, R> fn, Iterable<? extends T> items, MapOptions options);

  /** {@link #mapUnordered(SerializableFunction, Iterable, MapOptions)} with default options. */
  default <T, R> MapResults<R> mapUnordered(
      SerializableFunction<T, R> fn, Iterable<? extends T> items) {
    return mapUnordered(fn, items, MapOptions.defaults());
  }

  /** {@link #mapUnordered(SerializableFunction, Iterable, MapOptions)} over a stream. */
  default <T, R> MapResults<R> mapUnordered(
      SerializableFunction<T, R> fn, Stream<? extends T> items, MapOptions options) {
    return mapUnordered(fn, iterableOnce(items), options);
  }

  /**
   * Python's {@code shutdown(wait, cancel_futures)}: stops accepting tasks; with {@code
   * cancelFutures}, cancels the tasks that have not started; with {@code wait}, blocks until every
   * accepted task has finished and the workers have exited.
   *
   * @param wait whether to block until terminated
   * @param cancelFutures whether to cancel the tasks not yet started
   */
  void shutdown(boolean wait, boolean cancelFutures);

  /** Shuts down and waits for termination, as leaving Python's {@code with} block does. */
  @Override
  void close();

  /**
   * @return worker processes (or threads, for a thread pool)
   */
  int workers();

  /**
   * @return the total number of tasks that can run at once
   */
  int parallelism();

  @Override
  <T> List<java.util.concurrent.Future<T>> invokeAll(Collection<? extends Callable<T>> tasks)
      throws InterruptedException;

  @Override
  <T> T invokeAny(Collection<? extends Callable<T>> tasks)
      throws InterruptedException, ExecutionException;

  @Override
  <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException;

  /** A stream as a one-shot Iterable that the map closes when it is done with it. */
  private static <T> Iterable<T> iterableOnce(Stream<? extends T> items) {
    final class StreamInput implements Iterable<T>, AutoCloseable {
      @Override
      @SuppressWarnings("unchecked")
      public java.util.Iterator<T> iterator() {
        return (java.util.Iterator<T>) items.iterator();
      }

      @Override
      public void close() {
        items.close();
      }
    }
    return new StreamInput();
  }
}
