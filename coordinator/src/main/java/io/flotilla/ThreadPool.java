package io.flotilla;

import io.flotilla.thread.ThreadBackend;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link PoolExecutor} running tasks on threads of this JVM, Python's {@code ThreadPoolExecutor}: the
 * same interface as {@link ProcessPool}, so that switching between them is one line.
 *
 * <pre>{@code
 * try (PoolExecutor pool = ThreadPool.create()) {        // or ProcessPool.local()
 *   for (String page : pool.map(url -> fetch(url), urls)) { ... }
 * }
 * }</pre>
 *
 * <p>Nothing is serialized: functions, arguments and results are passed by reference. Threads suit work
 * that waits (network, disk); worker processes isolate crashes and memory, and suit code that is not
 * thread-safe. Threads are daemons; {@link #close()} waits for every accepted task.
 */
public final class ThreadPool extends AbstractPool {
  private final ThreadBackend threads;
  private final int size;

  private ThreadPool(ThreadBackend threads, int size) {
    // Completing on the pool thread that ran the task is what ThreadPoolExecutor's futures do.
    super(threads, Runnable::run);
    this.threads = threads;
    this.size = size;
  }

  /** @return a pool of {@code min(32, processors + 4)} threads, Python's default */
  public static ThreadPool create() {
    return of(Math.min(32, Runtime.getRuntime().availableProcessors() + 4));
  }

  /**
   * @param threads the number of threads, at least 1
   * @return a pool of that many threads
   * @throws IllegalArgumentException if {@code threads} is less than 1
   */
  public static ThreadPool of(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, was " + threads);
    }
    return new ThreadPool(new ThreadBackend(threads), threads);
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
}
