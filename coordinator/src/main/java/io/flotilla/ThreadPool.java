package io.flotilla;

import io.flotilla.internal.thread.ThreadBackend;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link PoolExecutor} running tasks on threads of this JVM, Python's {@code ThreadPoolExecutor}:
 * the same interface as {@link ProcessPool}, so that switching between them is one line.
 *
 * <pre>{@code
 * try (PoolExecutor pool = ThreadPool.create()) {        // or ProcessPool.local()
 *   for (String page : pool.map(url -> fetch(url), urls)) { ... }
 * }
 * }</pre>
 *
 * <p>Nothing is serialized: functions, arguments and results are passed by reference. Threads suit
 * work that waits (network, disk); worker processes isolate crashes and memory, and suit code that
 * is not thread-safe. Threads are daemons, started as tasks arrive, up to the pool's size; {@link
 * #close()} waits for every accepted task.
 *
 * <p>Options beyond the size, as Python's {@code ThreadPoolExecutor(max_workers,
 * thread_name_prefix, initializer)} and {@link ProcessPool#builder()} have them, come from {@link
 * #builder()}:
 *
 * <pre>{@code
 * try (ThreadPool pool = ThreadPool.builder().threads(8).threadNamePrefix("crawler")
 *     .initializer(() -> CLIENT.set(newHttpClient())).build()) { ... }
 * }</pre>
 */
public final class ThreadPool extends AbstractPool {
  private final ThreadBackend threads;
  private final int size;

  private ThreadPool(ThreadBackend threads, int size) {
    // Completing on the pool thread that ran the task is what ThreadPoolExecutor's futures do.
    super(threads, Runnable::run);
    this.threads = threads;
    this.size = size;
    // Before the pool is returned, so before any thread can run the initializer.
    threads.onBroken(this::markBroken);
  }

  /**
   * @return a pool of {@code min(32, processors + 4)} threads, Python's default
   */
  public static ThreadPool create() {
    return builder().build();
  }

  /**
   * @param threads the number of threads, at least 1
   * @return a pool of that many threads
   * @throws IllegalArgumentException if {@code threads} is less than 1
   */
  public static ThreadPool of(int threads) {
    return builder().threads(threads).build();
  }

  /**
   * @return a builder for a pool with options
   */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  CompletableFuture<Void> stopBackend() {
    threads.stop();
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    // A thread of its own, not the common pool: a task that never ends would pin that pool's only
    // thread (on two cores) and stall every other supplyAsync in the JVM.
    Thread waiter =
        new Thread(
            () -> {
              try {
                threads.awaitStopped(Long.MAX_VALUE, TimeUnit.NANOSECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              stopped.complete(null);
            },
            "flotilla-thread-pool-stop");
    waiter.setDaemon(true);
    waiter.start();
    return stopped;
  }

  @Override
  public int workers() {
    return size;
  }

  @Override
  public int parallelism() {
    return size;
  }

  @Override
  public String toString() {
    return "ThreadPool[threads=" + size + (isShutdown() ? ", shut down" : "") + "]";
  }

  /**
   * Options of a thread pool: those of {@link ProcessPool.Builder} that mean something in one JVM.
   * Every setter validates at once and names the bad value.
   *
   * <p>Not thread-safe; {@link #build()} may be called more than once, each time for a new pool.
   */
  public static final class Builder {
    private int threads = Math.min(32, Runtime.getRuntime().availableProcessors() + 4);
    private String threadNamePrefix = "flotilla-thread";
    private SerializableRunnable initializer;

    private Builder() {}

    /**
     * @param threads the most threads the pool runs, at least 1 (default {@code min(32, processors
     *     + 4)}, Python's)
     * @return this
     * @throws IllegalArgumentException if {@code threads} is less than 1
     */
    public Builder threads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("threads must be at least 1, was " + threads);
      }
      this.threads = threads;
      return this;
    }

    /**
     * @param prefix the pool's threads are named this, a dash and their number from 1 (Python's
     *     {@code thread_name_prefix}; default {@code flotilla-thread})
     * @return this
     * @throws IllegalArgumentException if {@code prefix} is null or blank
     */
    public Builder threadNamePrefix(String prefix) {
      if (prefix == null || prefix.isBlank()) {
        throw new IllegalArgumentException(
            "threadNamePrefix must not be blank, was '" + prefix + "'");
      }
      this.threadNamePrefix = prefix;
      return this;
    }

    /**
     * Python's {@code initializer} (capture {@code initargs} in the lambda): run once in each pool
     * thread, on that thread, before its first task, for example to give it a connection of its own
     * in a {@link ThreadLocal}. Nothing is serialized; the type is {@link
     * ProcessPool.Builder#initializer}'s, so that one initializer serves both pools.
     *
     * <p>If it throws, the pool is broken, as a process pool is: the error is logged, the task its
     * thread was about to run and every pending task fail with {@link BrokenPoolException} (whose
     * cause is the initializer's exception), later submissions are rejected with it, and no thread
     * runs the initializer again.
     *
     * @param initializer the action
     * @return this
     * @throws NullPointerException if {@code initializer} is null
     */
    public Builder initializer(SerializableRunnable initializer) {
      this.initializer = Objects.requireNonNull(initializer, "initializer");
      return this;
    }

    /**
     * @return a new pool; its threads start as tasks arrive
     */
    public ThreadPool build() {
      return new ThreadPool(new ThreadBackend(threads, threadNamePrefix, initializer), threads);
    }
  }
}
