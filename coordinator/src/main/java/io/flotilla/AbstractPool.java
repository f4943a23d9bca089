package io.flotilla;

import io.flotilla.internal.map.ChunkBackend;
import io.flotilla.internal.map.ChunkOutcome;
import io.flotilla.internal.map.MapRun;
import io.flotilla.internal.map.TaskFuture;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link ProcessPool} and {@link ThreadPool} share: the ExecutorService and concurrent.futures
 * surface, the lifecycle, and the accounting that decides when the pool has terminated. The
 * subclasses provide a {@link ChunkBackend} and say how to stop it.
 *
 * <p>Implementation notes: every chunk (a submitted task is a chunk of one) goes through {@link
 * CountingBackend}, which counts chunks outstanding, and every submitted task's future stays in
 * {@code pendingTasks} until it is complete; the pool terminates when it is shut down and both are
 * empty. Counting chunks at this single choke point is what makes shutdown(wait) wait for map
 * chunks too; the futures are counted separately because they are completed on the {@code
 * completions} executor, after their chunk has been released.
 */
abstract class AbstractPool implements PoolExecutor {
  /**
   * Looked up on first use, not when the class loads: the first lookup configures the logging
   * backend (a third of a second for Logback reading its XML), and a pool launches its workers
   * first.
   */
  private static final class Log {
    static final Logger LOG = LoggerFactory.getLogger(AbstractPool.class);
  }

  private enum State {
    RUNNING,
    SHUTDOWN,
    STOPPING,
    TERMINATED
  }

  private final Object lock = new Object();
  private State state = State.RUNNING; // guarded by lock
  private final CountingBackend backend;
  private final Map<TaskFuture<?>, Callable<?>> pendingTasks = new ConcurrentHashMap<>();
  private final Set<MapRun<?, ?>> openMaps = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();
  private volatile BrokenPoolException broken;

  private final Executor completions;

  /**
   * @param backend where chunks run
   * @param completions where submitted tasks' futures are completed, and so where their dependent
   *     actions run; it must not be a thread that delivers results, or a callback that waits for
   *     another result would wait forever
   */
  AbstractPool(ChunkBackend backend, Executor completions) {
    this.backend = new CountingBackend(backend);
    this.completions = completions;
  }

  /**
   * Stops the backend once nothing is outstanding; completes when its threads or processes are
   * gone.
   */
  abstract CompletableFuture<Void> stopBackend();

  /** Marks the pool broken: later submissions are rejected with this exception. */
  void markBroken(BrokenPoolException cause) {
    if (broken == null) {
      broken = cause;
      Log.LOG.error("pool is broken: {}", cause.getMessage(), cause.getCause());
    }
  }

  /**
   * @return why new work is refused, or {@code null} while the pool accepts it
   */
  private RuntimeException admission() {
    BrokenPoolException b = broken;
    if (b != null) {
      return new BrokenPoolException(b.getMessage(), b.getCause());
    }
    synchronized (lock) {
      if (state != State.RUNNING) {
        return new RejectedExecutionException("the pool is shut down: it accepts no new tasks");
      }
    }
    return null;
  }

  private void admit() {
    RuntimeException refused = admission();
    if (refused != null) {
      throw refused;
    }
  }

  // ---------------------------------------------------------------- submit

  @Override
  public <R> CompletableFuture<R> submit(SerializableCallable<R> task) {
    java.util.Objects.requireNonNull(task, "task");
    admit();
    TaskFuture<R> future = new TaskFuture<>();
    pendingTasks.put(future, task);
    var unused =
        future.whenComplete(
            (r, e) -> {
              pendingTasks.remove(future);
              maybeTerminate();
            });
    try {
      future.attach(
          backend.run(
              backend.callJob(),
              -1,
              List.of(task),
              ChunkBackend.Start.FRESH,
              outcome -> future.deliver(outcome, completions)));
    } catch (RuntimeException | Error e) {
      // Nothing was queued: the future must not stay pending, or close() would wait for it forever.
      future.completeExceptionally(e);
      throw e;
    }
    return future;
  }

  @Override
  public <T, R> CompletableFuture<R> submit(SerializableFunction<T, R> fn, T arg) {
    java.util.Objects.requireNonNull(fn, "fn");
    return submit(() -> fn.apply(arg));
  }

  @Override
  public <R> CompletableFuture<R> submit(Callable<R> task) {
    java.util.Objects.requireNonNull(task, "task");
    if (task instanceof SerializableCallable<R> serializable) {
      return submit(serializable);
    }
    return submit((SerializableCallable<R>) task::call);
  }

  @Override
  public CompletableFuture<?> submit(Runnable task) {
    return submit(task, null);
  }

  @Override
  public <R> CompletableFuture<R> submit(Runnable task, R result) {
    java.util.Objects.requireNonNull(task, "task");
    return submit(
        (SerializableCallable<R>)
            () -> {
              task.run();
              return result;
            });
  }

  @Override
  public void execute(Runnable command) {
    var unused =
        submit(command)
            .whenComplete(
                (r, e) -> {
                  if (e != null && !(e instanceof CancellationException)) {
                    Log.LOG.warn("task given to execute() failed", e);
                  }
                });
  }

  // ---------------------------------------------------------------- map

  @Override
  public <T, R> MapResults<R> map(
      SerializableFunction<T, R> fn, Iterable<? extends T> items, MapOptions options) {
    return startMap(fn, items, options, true);
  }

  @Override
  public <T, R> MapResults<R> mapUnordered(
      SerializableFunction<T, R> fn, Iterable<? extends T> items, MapOptions options) {
    return startMap(fn, items, options, false);
  }

  private <T, R> MapResults<R> startMap(
      SerializableFunction<T, R> fn,
      Iterable<? extends T> items,
      MapOptions options,
      boolean ordered) {
    java.util.Objects.requireNonNull(fn, "fn");
    java.util.Objects.requireNonNull(items, "items");
    java.util.Objects.requireNonNull(options, "options");
    admit();
    ChunkBackend.JobRef job =
        backend.openJob(fn, () -> io.flotilla.internal.map.JobLabel.map(fn, items));
    MapRun<?, ?>[] self = new MapRun<?, ?>[1];
    MapRun<T, R> run =
        new MapRun<>(
            backend, job, items, ordered, options, this::admission, () -> openMaps.remove(self[0]));
    self[0] = run;
    openMaps.add(run);
    return run;
  }

  // ---------------------------------------------------------------- invokeAll / invokeAny

  @Override
  public <T> List<Future<T>> invokeAll(Collection<? extends Callable<T>> tasks)
      throws InterruptedException {
    return invokeAll(tasks, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
  }

  @Override
  public <T> List<Future<T>> invokeAll(
      Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
      throws InterruptedException {
    long nanos = unit.toNanos(timeout);
    long deadline = nanos == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + nanos;
    List<Future<T>> futures = new ArrayList<>(tasks.size());
    try {
      for (Callable<T> task : tasks) {
        futures.add(submit(task));
      }
      for (Future<T> f : futures) {
        try {
          if (deadline == Long.MAX_VALUE) {
            f.get();
          } else {
            f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          }
        } catch (ExecutionException | CancellationException ignored) {
          // invokeAll reports each outcome through its future
        } catch (TimeoutException e) {
          break;
        }
      }
      // Only those left unfinished by the deadline: as the contract says, they are cancelled.
      futures.forEach(f -> f.cancel(true));
      return futures;
    } catch (InterruptedException | RuntimeException e) {
      futures.forEach(f -> f.cancel(true));
      throw e;
    }
  }

  @Override
  public <T> T invokeAny(Collection<? extends Callable<T>> tasks)
      throws InterruptedException, ExecutionException {
    try {
      return invokeAny(tasks, Long.MAX_VALUE, TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot time out without a deadline", e);
    }
  }

  @Override
  public <T> T invokeAny(Collection<? extends Callable<T>> tasks, long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (tasks.isEmpty()) {
      throw new IllegalArgumentException("invokeAny needs at least one task");
    }
    CompletableFuture<T> first = new CompletableFuture<>();
    AtomicInteger failures = new AtomicInteger();
    List<CompletableFuture<T>> futures = new ArrayList<>(tasks.size());
    try {
      for (Callable<T> task : tasks) {
        CompletableFuture<T> f = submit(task);
        futures.add(f);
        var unused =
            f.whenComplete(
                (r, e) -> {
                  if (e == null) {
                    first.complete(r);
                  } else if (failures.incrementAndGet() == tasks.size()) {
                    first.completeExceptionally(e);
                  }
                });
      }
      return unit.toNanos(timeout) == Long.MAX_VALUE ? first.get() : first.get(timeout, unit);
    } finally {
      futures.forEach(f -> f.cancel(true));
    }
  }

  // ---------------------------------------------------------------- lifecycle

  @Override
  public void shutdown(boolean wait, boolean cancelFutures) {
    synchronized (lock) {
      if (state == State.RUNNING) {
        state = State.SHUTDOWN;
      }
    }
    if (cancelFutures) {
      for (TaskFuture<?> task : pendingTasks.keySet()) {
        task.cancel(false);
      }
      for (MapRun<?, ?> run : openMaps) {
        run.cancelPending();
      }
    }
    maybeTerminate();
    if (wait) {
      boolean interrupted = false;
      while (true) {
        try {
          terminated.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          break;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void shutdown() {
    shutdown(false, false);
  }

  @Override
  public List<Runnable> shutdownNow() {
    List<Runnable> neverStarted = new ArrayList<>();
    synchronized (lock) {
      if (state == State.RUNNING) {
        state = State.SHUTDOWN;
      }
    }
    for (Map.Entry<TaskFuture<?>, Callable<?>> task : pendingTasks.entrySet()) {
      Callable<?> callable = task.getValue();
      if (task.getKey().cancel(false)) {
        neverStarted.add(
            () -> {
              try {
                callable.call();
              } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
              }
            });
      }
    }
    for (MapRun<?, ?> run : openMaps) {
      run.cancelPending();
    }
    maybeTerminate();
    return neverStarted;
  }

  @Override
  public void close() {
    shutdown(true, false);
  }

  @Override
  public boolean isShutdown() {
    synchronized (lock) {
      return state != State.RUNNING;
    }
  }

  @Override
  public boolean isTerminated() {
    return terminated.isDone();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    try {
      terminated.get(timeout, unit);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return true;
    }
  }

  /** SHUTDOWN → STOPPING when nothing is outstanding; TERMINATED when the backend has stopped. */
  private void maybeTerminate() {
    synchronized (lock) {
      if (state != State.SHUTDOWN || backend.outstanding.get() > 0 || !pendingTasks.isEmpty()) {
        return;
      }
      state = State.STOPPING;
    }
    var unused =
        stopBackend()
            .whenComplete(
                (r, e) -> {
                  synchronized (lock) {
                    state = State.TERMINATED;
                  }
                  if (e != null) {
                    Log.LOG.warn("pool stopped with an error", e);
                  }
                  terminated.complete(null);
                });
  }

  /** Counts chunks between run() and their outcome (or successful cancellation). */
  private final class CountingBackend implements ChunkBackend {
    private final ChunkBackend delegate;
    private final AtomicInteger outstanding = new AtomicInteger();

    CountingBackend(ChunkBackend delegate) {
      this.delegate = delegate;
    }

    @Override
    public JobRef openJob(SerializableFunction<?, ?> fn) {
      return delegate.openJob(fn);
    }

    @Override
    public JobRef openJob(
        SerializableFunction<?, ?> fn,
        java.util.function.Supplier<io.flotilla.internal.map.JobLabel> label) {
      return delegate.openJob(fn, label);
    }

    @Override
    public JobRef callJob() {
      return delegate.callJob();
    }

    @Override
    public ChunkTicket run(
        JobRef job, long firstIndex, List<?> items, Start start, Consumer<ChunkOutcome> done) {
      synchronized (lock) {
        // Checked together with the count that decides termination: a chunk that slipped in after
        // the
        // pool began to stop would wait for workers that are gone.
        if (start == Start.FRESH && state != State.RUNNING) {
          throw new RejectedExecutionException("the pool is shut down: it accepts no new tasks");
        }
        outstanding.incrementAndGet();
      }
      ChunkTicket ticket;
      try {
        ticket =
            delegate.run(
                job,
                firstIndex,
                items,
                start,
                outcome -> {
                  try {
                    done.accept(outcome);
                  } finally {
                    released();
                  }
                });
      } catch (RuntimeException | Error e) {
        released();
        throw e;
      }
      return new ChunkTicket() {
        @Override
        public boolean cancelIfNotStarted() {
          if (ticket.cancelIfNotStarted()) {
            released();
            return true;
          }
          return false;
        }

        @Override
        public java.util.concurrent.CompletableFuture<Boolean> withdraw() {
          return ticket
              .withdraw()
              .thenApply(
                  cancelled -> {
                    if (cancelled) {
                      released();
                    }
                    return cancelled;
                  });
        }

        @Override
        public boolean abort() {
          if (ticket.abort()) {
            released();
            return true;
          }
          return false;
        }
      };
    }

    private void released() {
      if (outstanding.decrementAndGet() == 0) {
        maybeTerminate();
      }
    }

    @Override
    public void closeJob(JobRef job) {
      delegate.closeJob(job);
    }

    @Override
    public int parallelism() {
      return delegate.parallelism();
    }
  }
}
